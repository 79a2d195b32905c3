"""clean_markdown: no raw HTML, script or script link from a model survives outside code."""

import pytest

from adapters.markdown import clean_markdown


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("Before <script>alert(document.cookie)</script>after", "Before after"),
        ("<SCRIPT type='module'>steal()</SCRIPT>Text", "Text"),
        ("<style>body { display: none }</style>Visible", "Visible"),
    ],
    ids=["script", "upper-case-script", "style"],
)
def test_script_and_style_are_removed_with_their_content(raw: str, clean: str):
    assert clean_markdown(raw) == clean


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("<b>bold</b> and <div class='x'>block</div>", "bold and block"),
        ('<a href="https://example.com">a link</a>', "a link"),
        ("<img src=x onerror=alert(1)>Caption", "Caption"),
        ('<iframe src="https://evil.example"></iframe>Rest', "Rest"),
        ("Line<br>break", "Linebreak"),
    ],
    ids=["inline-and-block", "anchor", "img-onerror", "iframe", "void-tag"],
)
def test_other_tags_are_dropped_keeping_their_text(raw: str, clean: str):
    assert clean_markdown(raw) == clean


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
    text = f"An example:\n\n{code}\n\nThat is all."

    assert clean_markdown(text) == text


def test_inline_code_is_kept_byte_for_byte():
    text = "Write `<br>` for a break and `a < b && b > c` for a comparison."

    assert clean_markdown(text) == text


def test_prose_around_code_is_still_cleaned():
    text = "<b>Bold</b> `<i>code</i>` <script>x()</script>\n```\n<em>fenced</em>\n```\n<u>end</u>"

    assert clean_markdown(text) == "Bold `<i>code</i>` \n```\n<em>fenced</em>\n```\nend"


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
    ],
    ids=["javascript", "mixed-case", "leading-space", "entity", "data", "vbscript", "image"],
)
def test_script_scheme_links_are_defused(link: str):
    cleaned = clean_markdown(f"See {link} now.")

    assert "](#)" in cleaned
    for scheme in ("javascript:", "vbscript:", "data:"):
        assert scheme not in cleaned.lower()


def test_https_links_are_kept():
    text = "Read [the docs](https://docs.python.org/3/) and ![a chart](https://example.com/c.png)."

    assert clean_markdown(text) == text


def test_ordinary_markdown_is_unchanged():
    text = (
        "# Lists in Python\n\n"
        "## Why they matter\n\n"
        "- *ordered*, **mutable** sequences\n"
        "- indexed from `0`\n\n"
        "1. Create one\n"
        "2. Append to it\n\n"
        "A paragraph with a [link](https://example.com/path?q=1) and _emphasis_.\n\n"
        "| Method | Use |\n|---|---|\n| append | add one |\n"
    )

    assert clean_markdown(text) == text


def test_stray_angle_brackets_and_ampersands_are_escaped_as_entities():
    text = "If a < b and b > c, then a < c. Tom & Jerry."

    assert clean_markdown(text) == "If a &lt; b and b &gt; c, then a &lt; c. Tom &amp; Jerry."


def test_text_that_is_only_html_is_left_empty():
    assert clean_markdown("<div><span></span></div><script>x()</script>").strip() == ""


@pytest.mark.parametrize("marker", ["~~~", "```"])
def test_fence_marker_in_the_middle_of_a_line_does_not_protect_the_html_after_it(marker: str):
    cleaned = clean_markdown(f"Type {marker} to open a block. <img src=x onerror=alert(1)>")

    assert "<img" not in cleaned


def test_html_between_escaped_backticks_is_removed():
    cleaned = clean_markdown(r"Not code: \`<img src=x onerror=alert(1)>\`")

    assert "<img" not in cleaned


def test_reference_style_script_link_is_defused():
    cleaned = clean_markdown("Press [here][a].\n\n[a]: javascript:alert(1)\n")

    assert "javascript:" not in cleaned.lower()


def test_blockquote_is_kept():
    text = "> Simple is better than complex.\n> — The Zen of Python"

    assert clean_markdown(text) == text


def test_indented_code_is_cleaned_like_prose_so_no_tag_hides_in_it():
    # A chosen limit, not a bug: only fenced blocks are recognised as code (the prompts ask for
    # them), so an indented block is escaped rather than trusted.
    text = "Compare:\n\n    if a < b:\n        <script>steal()</script>\n\nDone."

    cleaned = clean_markdown(text)

    assert "<script" not in cleaned
    assert "steal()" not in cleaned
    assert "    if a &lt; b:" in cleaned


def test_autolink_to_https_is_kept():
    cleaned = clean_markdown("See <https://docs.python.org/3/> for more.")

    assert "https://docs.python.org/3/" in cleaned
