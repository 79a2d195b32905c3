"""Property-based: whatever Markdown a model (or a poisoned source) writes, the cleaned text,
rendered by a CommonMark renderer with raw HTML enabled, has no element outside what Markdown
itself makes, no event handler and no non-http(s) URL."""

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.markdown import clean_markdown
from tests.support.html_audit import live_problems

_TAGS = st.sampled_from(
    [
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(1)>",
        "<svg onload=alert(1)>",
        "<iframe src=javascript:alert(1)>",
        '<a href="javascript:alert(1)">x</a>',
        "<div>",
        "</div>",
        "<style>*{}</style>",
        "<!-- c -->",
        "<?php ?>",
        "<![CDATA[x]]>",
        "&lt;script&gt;",
        "&#60;img src=x onerror=1&#62;",
        "<b onclick=1>",
    ]
)
_LINKS = st.sampled_from(
    [
        "[x](javascript:alert(1))",
        "[x](JAVASCRIPT:alert(1))",
        "[x]( data:text/html,<script>)",
        "![x](vbscript:1)",
        "[x](https://ok.example/)",
        "<javascript:alert(1)>",
        "<https://ok.example>",
        "[r]\n\n[r]: javascript:alert(1)",
    ]
)
_FENCES = st.builds(
    lambda char, n, info: char * n + info,
    st.sampled_from(["`", "~"]),
    st.integers(min_value=1, max_value=6),
    st.sampled_from(["", "js", "js`x", " python ", "`"]),
)
_PREFIXES = st.sampled_from(["", "> ", "- ", "1. ", "    ", "  - > ", "# ", "\t"])
_WORDS = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=12)
_PIECES = st.one_of(
    _TAGS, _LINKS, _FENCES, _WORDS, st.sampled_from(["`", "``", "\\", "&", "<", ">"])
)
_LINES = st.builds(
    lambda prefix, parts: prefix + "".join(parts), _PREFIXES, st.lists(_PIECES, max_size=6)
)
MARKDOWN = st.lists(_LINES, min_size=1, max_size=12).map("\n".join)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(MARKDOWN)
def test_no_live_html_survives_any_markdown(markdown: str):
    assert live_problems(clean_markdown(markdown)) == []


@settings(max_examples=200, deadline=None)
@given(MARKDOWN)
def test_cleaning_is_stable(markdown: str):
    once = clean_markdown(markdown)

    assert live_problems(clean_markdown(once)) == []
