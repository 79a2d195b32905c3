"""The page's Markdown renderer (functions/web/markdown.js) in the browser: model text is shown,
never run, and the Markdown a lesson uses comes out as the elements it means."""

from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Page

pytestmark = pytest.mark.timeout(180)

# Renders `source` into a detached element; answers what came out.
RENDER = """async (source) => {
  const { renderMarkdown } = await import("./app/markdown.js");
  const root = document.createElement("div");
  root.append(renderMarkdown(source));
  document.body.append(root);
  await new Promise((resolve) => setTimeout(resolve, 100));  // any onerror would have fired
  const all = (selector) => [...root.querySelectorAll(selector)];
  const result = {
    tags: [...new Set(all("*").map((el) => el.tagName.toLowerCase()))].sort(),
    handlers: all("*").flatMap((el) => [...el.attributes].map((a) => a.name))
      .filter((name) => name.startsWith("on")),
    links: all("a").map((a) =>
      ({ href: a.getAttribute("href"), text: a.textContent, rel: a.rel, target: a.target })),
    text: root.textContent,
    pwned: window.pwned === true,
    html: root.innerHTML,
  };
  root.remove();
  return result;
}"""

HOSTILE = """<script>window.pwned = true</script>
<img src=x onerror="window.pwned = true"> <iframe src="https://evil.example"></iframe>
[click me](javascript:window.pwned=true) [data](data:text/html,<b>x</b>) [relative](/api/roadmaps)
<a href="https://evil.example" onclick="window.pwned = true">raw anchor</a>
&lt;b&gt;escaped&lt;/b&gt; and AT&amp;T &#x3C;i&#x3E;
**<img src=y onerror="window.pwned = true">**
"""

LESSON = """# Title

A paragraph with **bold**, *italic*, `a < b` and [docs](https://example.com/a?x=1&amp;y=2).

- one
- two
  - nested

3. third
4. fourth

> quoted *text*

```python
print("<tag>")
```

| Name | Value |
|------|-------|
| a    | `1`   |
"""


@pytest.fixture
def page(new_page: Callable[..., Page]) -> Page:
    opened = new_page()
    opened.goto("/api/app")
    return opened


def test_model_text_never_becomes_markup_or_script(page: Page) -> None:
    out: dict[str, Any] = page.evaluate(RENDER, HOSTILE)

    assert set(out["tags"]) <= {"p", "strong", "a", "span"}, out["html"]
    assert out["handlers"] == []
    assert out["pwned"] is False
    # Bare https URLs in the text are links; the javascript:, data: and relative ones are not.
    assert {link["text"] for link in out["links"]} == {"https://evil.example"}
    for link in out["links"]:
        assert link["href"] == "https://evil.example/"
        assert (link["rel"], link["target"]) == ("noopener noreferrer", "_blank")
    assert "click me [data](data:text/html,<b>x</b>) relative" in out["text"]
    assert "<script>window.pwned = true</script>" in out["text"]  # shown as text
    assert "<b>escaped</b> and AT&T <i>" in out["text"]  # the server's escapes decoded once


def test_lesson_markdown_becomes_its_elements(page: Page) -> None:
    out: dict[str, Any] = page.evaluate(RENDER, LESSON)

    for tag in ("h3", "p", "strong", "em", "code", "ul", "ol", "li", "blockquote", "pre", "table"):
        assert tag in out["tags"], (tag, out["html"])
    assert out["links"] == [
        {
            "href": "https://example.com/a?x=1&y=2",
            "text": "docs",
            "rel": "noopener noreferrer",
            "target": "_blank",
        }
    ]
    html = out["html"]
    assert (
        '<pre tabindex="0"><code class="language-python">print("&lt;tag&gt;")</code></pre>' in html
    )
    assert "<li>two<ul><li>nested</li></ul></li>" in html
    assert '<ol start="3"><li>third</li><li>fourth</li></ol>' in html
    assert "<blockquote><p>quoted <em>text</em></p></blockquote>" in html
    assert "<td><code>1</code></td>" in html
