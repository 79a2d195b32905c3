"""clean_markdown: model Markdown is parsed and written back with no live HTML and no script link.

Each case is checked the way a frontend with raw HTML enabled would render the stored text
(``tests/support/html_audit.py``), not by looking for strings.
"""

import pytest
from markdown_it import MarkdownIt

from adapters.markdown import clean_markdown
from tests.support.html_audit import audit, live_problems


@pytest.mark.parametrize(
    "raw",
    [
        "Before <script>alert(document.cookie)</script>after",
        "<SCRIPT type='module'>steal()</SCRIPT>Text",
        "<style>body { display: none }</style>Visible",
        "<b>bold</b> and <div class='x'>block</div>",
        '<a href="https://example.com">a link</a>',
        "<img src=x onerror=alert(1)>Caption",
        '<iframe src="https://evil.example"></iframe>Rest',
        '<svg onload="alert(1)"><circle/></svg>',
        "Line<br>break",
        "<!-- a comment --><details open ontoggle=alert(1)>x</details>",
    ],
    ids=[
        "script",
        "upper-case-script",
        "style",
        "inline-and-block",
        "anchor",
        "img-onerror",
        "iframe",
        "svg-onload",
        "void-tag",
        "comment-and-details",
    ],
)
def test_raw_html_is_kept_as_visible_text_never_as_markup(raw: str):
    cleaned = clean_markdown(raw)

    assert live_problems(cleaned) == []
    assert audit(cleaned).elements == ["p"]  # one paragraph of text, whatever the tags were


def test_escaped_html_still_reads_as_what_the_model_wrote():
    cleaned = clean_markdown("Use <b>bold</b> sparingly.")

    assert cleaned == r"Use \<b>bold\</b> sparingly."


@pytest.mark.parametrize(
    "code",
    [
        '```html\n<script>alert(1)</script>\n<p class="a">x &amp; y</p>\n```',
        "~~~xml\n<note><to>Tove</to></note>\n~~~",
        "```\n<!-- a comment --> a < b && c > d\n```",
    ],
    ids=["backtick-fence", "tilde-fence", "comment-and-operators"],
)
def test_html_inside_fenced_code_is_kept_byte_for_byte(code: str):
    body = code.split("\n", 1)[1].rsplit("\n", 1)[0]
    cleaned = clean_markdown(f"An example:\n\n{code}\n\nThat is all.")

    assert f"\n{body}\n" in cleaned
    assert live_problems(cleaned) == []
    assert audit(cleaned).elements.count("pre") == 1


def test_inline_code_is_kept_byte_for_byte():
    text = "Write `<br>` for a break and `a < b && b > c` for a comparison."

    assert clean_markdown(text) == text


@pytest.mark.parametrize(
    "text",
    [
        "# Title\n\nSome *emphasis* and **strong** text.\n\n- one\n- two\n",
        "1. first\n2. second\n\n> a quote\n\n[Python docs](https://docs.python.org/3/)\n",
        "```python\nprint([n * n for n in range(5)])\n```\n",
    ],
    ids=["heading-and-list", "ordered-quote-link", "fence"],
)
def test_ordinary_markdown_is_unchanged(text: str):
    assert clean_markdown(text) == text


@pytest.mark.parametrize(
    "link",
    [
        "[click](javascript:alert(1))",
        "[click](JavaScript:alert(1))",
        "[click]( javascript:alert(1))",
        "[click](java&#115;cript:alert(1))",
        "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
        "[click](vbscript:msgbox(1))",
        "![pixel](javascript:alert(1))",
        "[click](/relative/path)",
        "[ref]\n\n[ref]: javascript:alert(1)",
        "<javascript:alert(1)>",
    ],
    ids=[
        "javascript",
        "mixed-case",
        "leading-space",
        "entity",
        "data",
        "vbscript",
        "image",
        "relative",
        "reference",
        "autolink",
    ],
)
def test_links_that_are_not_http_keep_their_text_and_lose_their_target(link: str):
    cleaned = clean_markdown(f"Please {link} now.")

    assert live_problems(cleaned) == []
    assert audit(cleaned).urls == []


def test_https_links_and_autolinks_are_kept():
    cleaned = clean_markdown(
        "See [the docs](https://docs.python.org/3/) or <https://peps.python.org>."
    )

    assert audit(cleaned).urls == ["https://docs.python.org/3/", "https://peps.python.org"]


def test_links_to_hosts_not_allowed_are_kept_as_text():
    text = "Read [the docs](https://docs.python.org/3/) and [this](https://evil.example/x)."

    cleaned = clean_markdown(text, allowed_hosts=lambda host: host == "docs.python.org")

    assert audit(cleaned).urls == ["https://docs.python.org/3/"]
    assert "this" in cleaned


@pytest.mark.parametrize(
    "text",
    [
        "Type ~~~ to open a block. <img src=x onerror=alert(1)>",
        "Type ``` to open a block. <img src=x onerror=alert(1)>",
        r"Not code: \`<img src=x onerror=alert(1)>\`",
        "````\n```\n<script>alert(1)</script>\n````\n<img src=x onerror=alert(1)>",
        "``` js`x\n<img src=x onerror=alert(1)>\n```",
        "```\n<script>never closed",
        "&lt;script&gt;alert(1)&lt;/script&gt; &#60;img src=x onerror=alert(1)&#62;",
        "- a <svg onload=alert(1)>\n  - > quote <b>x</b>\n    > <iframe src=x>",
        "    <script>indented</script>",
    ],
    ids=[
        "tilde-mid-line",
        "backtick-mid-line",
        "escaped-backticks",
        "longer-closing-fence",
        "backtick-in-info-string",
        "unclosed-fence",
        "entity-encoded-tags",
        "nested-list-and-quote",
        "indented-code",
    ],
)
def test_fence_and_nesting_edge_cases_smuggle_no_markup(text: str):
    assert live_problems(clean_markdown(text)) == []


def test_stray_angle_brackets_and_ampersands_read_as_written():
    cleaned = clean_markdown("If a < b and b > c, then a < c. Tom & Jerry.")

    assert live_problems(cleaned) == []
    assert "Tom &amp; Jerry" in _html(cleaned)


def _html(markdown: str) -> str:
    html: str = MarkdownIt("commonmark", {"html": True}).render(markdown)
    return html
