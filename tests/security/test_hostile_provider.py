"""A hostile model: the provider answers lessons full of markup meant to run in the learner's
browser. The lesson must be stored with no live HTML in any Markdown field (rendered by a
CommonMark renderer with raw HTML on), no ``javascript:`` URL anywhere, and Mermaid without
directives or interactions; a provider's error text never reaches the learner.

Emulators of this module's own: the worker here must not take other hosts' queued lessons."""

import uuid
from collections.abc import Iterator
from html.parser import HTMLParser
from typing import Any

import pytest
from markdown_it import MarkdownIt

from adapters.auth import TokenVerifier
from tests.conftest import Stack
from tests.e2e.conftest import Host, Learner, start_host
from tests.security.conftest import create_roadmap, lesson_ids
from tests.support.fake_llm import FakeLlmServer, Reply
from tests.support.html_audit import live_problems
from tests.support.samples import lesson_json

# Raw HTML on, as tests/support/html_audit.py renders, and every link target accepted: markdown-it
# drops javascript: and data: targets by itself, laxer renderers do not.
RENDERER = MarkdownIt("commonmark", {"html": True})
RENDERER.validateLink = lambda url: True  # type: ignore[method-assign]
MARKER = f"zqx{uuid.uuid4().hex[:12]}"
HOSTILE = "\n\n".join(
    [
        "<script>alert(1)</script>",
        "Intro <img src=x onerror=alert(2)> text <svg onload=alert(3)><circle/></svg>",
        "[click](javascript:alert(4)) [again]( JaVaScRiPt:alert(5) ) <javascript:alert(6)>",
        "[x](java&#115;cript:alert(7)) ![img](javascript:alert(8)) [ref]",
        "[ref]: javascript:alert(9)",
        "[data](data:text/html;base64,PHNjcmlwdD5hbGVydCgxMCk8L3NjcmlwdD4=)",
        "&lt;script&gt;alert(11)&lt;/script&gt; &#60;img src=x onerror=alert(12)&#62;",
        '<a href="javascript:alert(13)">link</a> <iframe src="https://evil.example"></iframe>',
        "````\n```\n<script>inside a fence</script>\n```\n````\n<script>alert(14)</script>",
        "```\ncode\n`````\n<img src=x onerror=alert(15)>",
        "``` js`onerror\n<script>alert(16)</script>\n```\n<script>alert(17)</script>",
        "> quote <img src=x onerror=alert(18)>\n> - item <svg/onload=alert(19)>",
        "`<code>` then <scr<script>ipt>alert(20)</script>",
        "<!-- c --><![CDATA[<script>]]><?php x ?><style>body{display:none}</style>",
        "<div>\n\n*inside a block*\n\n</div>",
        "- <details open ontoggle=alert(21)>\n  1. <object data=javascript:alert(22)>",
        "~~~\n<b>a fence never closed <script>alert(23)</script>",
    ]
)
SHORT = [
    "<script>alert(31)</script>",
    "<img src=x onerror=alert(32)>",
    "[go](javascript:alert(33))",
    "<svg onload=alert(34)>",
    "&#60;b onmouseover=alert(35)&#62;hi",
]
MERMAID = "\n".join(
    [
        '%%{init: {"securityLevel": "loose"}}%%',
        "flowchart LR",
        "  A[Start] --> B[End]",
        '  click A call alert(41) "tooltip"',
        '  A --> C; click C href "javascript:alert(42)"',
        '  B --> D %%{init: {"securityLevel": "loose"}}%%',
        "  HREF B javascript:alert(43)",
    ]
)


def hostile_lesson() -> dict[str, Any]:
    """A lesson whose every Markdown field is hostile, valid in shape otherwise."""
    lesson = lesson_json(summary=HOSTILE[:1_900])
    lesson["sections"] = [{"heading": SHORT[n % len(SHORT)], "body": HOSTILE} for n in range(3)]
    lesson["codeExamples"][0]["explanation"] = HOSTILE
    lesson["exercises"] = [{"prompt": HOSTILE, "hint": SHORT[1], "solution": HOSTILE}]
    lesson["quiz"] = [
        {
            "question": SHORT[0],
            "options": SHORT[:4],
            "answerIndex": 1,
            "explanation": HOSTILE,
        }
    ]
    lesson["keyTakeaways"] = SHORT
    lesson["diagrams"] = [{"title": SHORT[2], "mermaid": MERMAID}]
    return lesson


def markdown_fields(content: dict[str, Any]) -> dict[str, str]:
    """Every field of stored lesson content that a frontend renders as Markdown."""
    fields = {"summary": content["summary"]}
    for n, section in enumerate(content["sections"]):
        fields[f"sections.{n}.heading"] = section["heading"]
        fields[f"sections.{n}.body"] = section["body"]
    for n, example in enumerate(content["codeExamples"]):
        fields[f"codeExamples.{n}.title"] = example["title"]
        fields[f"codeExamples.{n}.explanation"] = example["explanation"]
    for n, exercise in enumerate(content["exercises"]):
        for name in ("prompt", "hint", "solution"):
            fields[f"exercises.{n}.{name}"] = exercise[name]
    for n, question in enumerate(content["quiz"]):
        fields[f"quiz.{n}.question"] = question["question"]
        fields[f"quiz.{n}.explanation"] = question["explanation"]
        for m, option in enumerate(question["options"]):
            fields[f"quiz.{n}.options.{m}"] = option
    for n, takeaway in enumerate(content["keyTakeaways"]):
        fields[f"keyTakeaways.{n}"] = takeaway
    for n, diagram in enumerate(content["diagrams"]):
        fields[f"diagrams.{n}.title"] = diagram["title"]
    for n, reading in enumerate(content["furtherReading"]):
        fields[f"furtherReading.{n}.title"] = reading["title"]
    return fields


class _Attributes(HTMLParser):
    """Every attribute value of rendered HTML, entities decoded."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.values: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.values += [value for _, value in attrs if value is not None]


def script_urls(markdown: str) -> list[str]:
    """Attribute values of the rendered Markdown that a browser would treat as script."""
    parser = _Attributes()
    parser.feed(RENDERER.render(markdown))
    parser.close()
    squeezed = ["".join(value.split()).lower() for value in parser.values]
    return [value for value in squeezed if value.startswith(("javascript:", "vbscript:", "data:"))]


@pytest.fixture(scope="module")
def worker(own_stack: Stack, llm: FakeLlmServer) -> Iterator[Host]:
    """One host that serves HTTP and writes lessons, with the fake as its only provider."""
    host = start_host(
        own_stack,
        LLM_PROVIDERS="groq",
        GROQ_API_KEY="gsk_security_SECRET",
        GROQ_BASE_URL=llm.root_url,
        LLM_LESSON_BUDGET_SECONDS="10",
        AzureFunctionsJobHost__extensions__queues__visibilityTimeout="00:00:01",
        AzureFunctionsJobHost__extensions__queues__maxPollingInterval="00:00:01",
    )
    yield host
    host.stop()


@pytest.fixture
def victim(worker: Host, own_stack: Stack, llm: FakeLlmServer) -> Iterator[Learner]:
    llm.reset()
    user = f"victim-{uuid.uuid4().hex[:8]}"
    tokens = TokenVerifier(own_stack.env["AUTH_JWT_SECRET"])
    learner = Learner(worker, tokens.issue(user), user)
    yield learner
    learner.http.close()


def _written(learner: Learner) -> dict[str, Any]:
    lesson_id = lesson_ids(create_roadmap(learner, 1))[0]
    assert learner.http.post(f"/api/lessons/{lesson_id}/generate").status_code == 202
    return learner.wait_for_lesson(lesson_id, limit=60)


@pytest.fixture
def stored(victim: Learner, llm: FakeLlmServer) -> dict[str, Any]:
    """The hostile lesson as the API serves it back."""
    llm.default("groq", Reply.ok(hostile_lesson()))
    lesson = _written(victim)
    assert lesson["generationStatus"] == "completed", lesson["generationError"]
    assert len(llm.successes("groq")) == 1  # the hostile answer was the one stored
    return lesson


def test_the_audit_sees_what_the_hostile_markdown_would_do_unclean() -> None:
    """The checks below would fail, were the provider's text stored as written."""
    assert len(live_problems(HOSTILE)) >= 10
    assert any(url.startswith("javascript:") for url in script_urls(HOSTILE))
    assert any(url.startswith("data:") for url in script_urls(HOSTILE))
    assert live_problems(SHORT[0])
    assert live_problems(SHORT[1])
    assert script_urls(SHORT[2])


def test_a_hostile_lesson_is_stored_with_no_live_html_in_any_markdown_field(
    stored: dict[str, Any],
) -> None:
    fields = markdown_fields(stored["content"])
    assert len(fields) >= 20

    problems = {name: live_problems(text) for name, text in fields.items()}

    assert {name: found for name, found in problems.items() if found} == {}


def test_a_hostile_lesson_is_stored_with_no_script_url_anywhere(stored: dict[str, Any]) -> None:
    content = stored["content"]
    urls = {name: script_urls(text) for name, text in markdown_fields(content).items()}
    links = [r["url"] for r in content["furtherReading"]] + [s["url"] for s in stored["sources"]]

    assert {name: found for name, found in urls.items() if found} == {}
    assert all(url.lower().startswith(("https://", "http://")) for url in links)


def test_a_hostile_diagram_is_stored_without_directives_or_interactions(
    stored: dict[str, Any],
) -> None:
    (diagram,) = stored["content"]["diagrams"]
    source = diagram["mermaid"].lower()

    assert source.startswith("flowchart")
    for word in ("%%{", "securitylevel", "click", "href", "javascript:", "alert("):
        assert word not in source, diagram["mermaid"]


@pytest.mark.parametrize(
    "reply",
    [
        pytest.param(Reply.ok(f"<script>alert('{MARKER}')</script> {{not json"), id="not-json"),
        pytest.param(
            Reply.ok({"summary": f"<script>{MARKER}</script>", "sections": "nope"}),
            id="wrong-shape",
        ),
        pytest.param(
            Reply.error(400, f'<script>{MARKER}</script> Traceback File "/srv/app.py"'),
            id="an-error-with-markup",
        ),
    ],
)
def test_a_hostile_failure_reaches_the_learner_as_generic_text(
    victim: Learner, llm: FakeLlmServer, reply: Reply
) -> None:
    llm.default("groq", reply)

    lesson = _written(victim)

    assert lesson["generationStatus"] == "failed"
    assert llm.requests("groq")
    for text in (lesson["generationError"] or "", lesson["lastError"] or ""):
        assert MARKER not in text
        assert "<script" not in text
        assert "Traceback" not in text
    assert lesson["generationError"]
