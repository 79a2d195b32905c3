"""What a CommonMark renderer with raw HTML enabled would make of stored Markdown.

Lesson Markdown is promised to be safe for *any* frontend, including one that renders raw HTML:
these helpers render it that way and list every element and every URL that would be live.
"""

from html.parser import HTMLParser

from markdown_it import MarkdownIt

# What Markdown itself produces; anything else came from raw HTML that survived.
ALLOWED_ELEMENTS = frozenset(
    [
        "p",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "ul",
        "ol",
        "li",
        "blockquote",
        "pre",
        "code",
        "em",
        "strong",
        "a",
        "img",
        "hr",
        "br",
    ]
)
_RENDERER = MarkdownIt("commonmark", {"html": True})


class _Elements(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[str] = []
        self.urls: list[str] = []
        self.handlers: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append(tag)
        for name, value in attrs:
            if name.startswith("on"):
                self.handlers.append(name)
            if name in ("href", "src") and value is not None:
                self.urls.append(value)


def audit(markdown: str) -> _Elements:
    """The elements, URLs and event handlers of ``markdown`` rendered with raw HTML enabled."""
    parser = _Elements()
    parser.feed(_RENDERER.render(markdown))
    parser.close()
    return parser


def live_problems(markdown: str) -> list[str]:
    """Every way the rendered Markdown could run script or show markup it should not."""
    found = audit(markdown)
    problems = [f"element <{tag}>" for tag in found.elements if tag not in ALLOWED_ELEMENTS]
    problems += [f"handler {name}" for name in found.handlers]
    problems += [
        f"url {url!r}"
        for url in found.urls
        if not url.strip().lower().startswith(("http://", "https://"))
    ]
    return problems
