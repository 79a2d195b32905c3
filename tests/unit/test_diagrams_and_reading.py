"""Diagrams (Mermaid, made safe) and further reading: validated like the rest of a lesson."""

from typing import Any

import pytest
from pydantic import ValidationError

from adapters.llm.offline import OfflineProvider
from adapters.markdown import clean_markdown
from domain.content import CLEAN_MARKDOWN, Diagram, LessonContent, Reading
from domain.ports import LessonBrief, LlmTask, TaskKind
from domain.research import DEVTO, DOCS, GITHUB
from tests.support.samples import lesson_json
from tests.unit.fakes import TIME_LIMIT, make_brief
from tests.unit.research_fakes import finding

CLEANING = {CLEAN_MARKDOWN: clean_markdown}
REFERENCES = tuple(finding(kind, n) for n, kind in enumerate([DOCS, GITHUB, DEVTO] * 3, start=1))


def _diagram(mermaid: str) -> Diagram:
    return Diagram(title="A diagram", mermaid=mermaid)


def _errors(error: pytest.ExceptionInfo[ValidationError]) -> list[tuple[Any, ...]]:
    return [item["loc"] for item in error.value.errors()]


@pytest.mark.parametrize(
    "source",
    [
        "flowchart TD\n    A[Request] --> B[Response]",
        "graph LR\n  A --> B",
        "sequenceDiagram\n  Browser->>Server: GET /\n  Server-->>Browser: 200 OK",
        "classDiagram\n  class Animal",
        "stateDiagram-v2\n  [*] --> Queued\n  Queued --> Done",
        "erDiagram\n  USER ||--o{ LESSON : writes",
        'pie title Time\n  "Reading" : 40\n  "Practice" : 60',
        "mindmap\n  root((Python))\n    Lists",
        "timeline\n  2008 : Python 3",
        "gantt\n  title Plan\n  section Week 1\n  Read :a1, 2024-01-01, 3d",
        "journey\n  title Learning\n  section Start\n    Read: 5: Me",
        "quadrantChart\n  title Effort",
    ],
)
def test_diagram_accepts_every_mermaid_diagram_type(source: str):
    assert _diagram(f"  {source}\n").mermaid == source


@pytest.mark.parametrize(
    "source",
    [
        "A --> B",
        "Here is a flowchart:\nflowchart TD\n  A --> B",
        "```mermaid\nflowchart TD\n  A --> B\n```",
        "<div>flowchart TD</div>",
        "%% just a comment",
        "%%{init: {'theme': 'dark'}}%%",
        "click A callback",
        "   ",
    ],
)
def test_diagram_that_does_not_start_with_a_mermaid_type_is_rejected(source: str):
    with pytest.raises(ValidationError) as raised:
        _diagram(source)

    assert _errors(raised) == [("mermaid",)]


def test_init_directives_are_dropped_wherever_they_are():
    source = (
        "%%{init: {'securityLevel': 'loose'}}%%\n"
        "flowchart TD\n"
        "  %%{ init: { 'flowchart': { 'htmlLabels': true } } }%%\n"
        "  A --> B"
    )

    mermaid = _diagram(source).mermaid

    assert mermaid.startswith("flowchart TD")
    assert "%%{" not in mermaid
    assert "securityLevel" not in mermaid
    assert "htmlLabels" not in mermaid
    assert "A --> B" in mermaid


def test_click_lines_are_dropped_and_the_rest_is_kept():
    source = (
        "flowchart TD\n"
        "  A --> B\n"
        "  click A callback\n"
        '    click B href "https://example.com" _blank\n'
        '  C["click here to start"] --> A'
    )

    mermaid = _diagram(source).mermaid

    assert [line.strip() for line in mermaid.splitlines() if line.strip()] == [
        "flowchart TD",
        "A --> B",
        'C["click here to start"] --> A',
    ]


def test_click_line_with_a_script_link_is_dropped_rather_than_rejected():
    mermaid = _diagram('flowchart TD\n  A --> B\n  click A href "javascript:alert(1)"').mermaid

    assert "javascript" not in mermaid
    assert "click" not in mermaid


def test_plain_mermaid_comments_are_kept():
    assert "%% the happy path" in _diagram("flowchart TD\n  %% the happy path\n  A --> B").mermaid


@pytest.mark.parametrize(
    "source",
    [
        'flowchart TD\n  A["javascript:alert(1)"] --> B',
        "flowchart TD\n  A[JavaScript:alert] --> B",
        "flowchart TD\n  A[<script>alert(1)</script>] --> B",
        "flowchart TD\n  A[< script src=x>] --> B",
    ],
)
def test_diagram_with_script_is_rejected(source: str):
    with pytest.raises(ValidationError, match="must not contain script"):
        _diagram(source)


@pytest.mark.parametrize(
    "url",
    ["https://docs.python.org/3/tutorial/", "http://example.com/a?b=1#c"],
)
def test_reading_accepts_http_and_https_urls(url: str):
    assert Reading(title="A page", url=f" {url} ").url == url


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "ftp://example.com/file",
        "www.example.com/page",
        "/docs/page",
        "https://exa mple.com/",
        "data:text/html,<script>alert(1)</script>",
        "",
    ],
)
def test_reading_rejects_anything_but_an_http_url(url: str):
    with pytest.raises(ValidationError) as raised:
        Reading(title="A page", url=url)

    assert _errors(raised) == [("url",)]


def test_lesson_without_diagrams_is_rejected():
    data = lesson_json()
    del data["diagrams"]

    with pytest.raises(ValidationError) as raised:
        LessonContent.model_validate(data)

    assert _errors(raised) == [("diagrams",)]


def test_lesson_with_an_empty_list_of_diagrams_is_rejected():
    with pytest.raises(ValidationError) as raised:
        LessonContent.model_validate({**lesson_json(), "diagrams": []})

    assert _errors(raised) == [("diagrams",)]


def test_lesson_with_an_unsafe_diagram_is_rejected_naming_it():
    data = lesson_json()
    data["diagrams"].append({"title": "Bad", "mermaid": "not mermaid at all"})

    with pytest.raises(ValidationError) as raised:
        LessonContent.model_validate(data)

    assert _errors(raised) == [("diagrams", 1, "mermaid")]


def test_further_reading_is_optional():
    data = lesson_json()
    del data["furtherReading"]

    assert LessonContent.model_validate(data).further_reading == []


async def _offline(brief: LessonBrief) -> LessonContent:
    task = LlmTask(kind=TaskKind.LESSON, brief=brief, schema=LessonContent)
    draft = await OfflineProvider().generate(task, time_limit=TIME_LIMIT)
    # Validated as the chain validates every provider's answer: with the Markdown cleaner.
    return LessonContent.model_validate_json(draft.payload, context=CLEANING)


@pytest.mark.parametrize("references", [(), REFERENCES[:2]], ids=["without", "with"])
async def test_offline_lesson_validates_with_and_without_references(references):
    content = await _offline(make_brief(references=references))

    assert len(content.diagrams) == 1
    assert [(r.title, r.url) for r in content.further_reading] == [
        (f.title, f.url) for f in references
    ]


async def test_offline_diagram_is_a_flowchart_through_the_objectives_in_order():
    objectives = ("Explain a request", "Read a status code", "Retry a 503")

    [diagram] = (await _offline(make_brief(objectives=objectives))).diagrams

    lines = [line.strip() for line in diagram.mermaid.splitlines()]
    assert lines[0] == "flowchart TD"
    assert lines[1:4] == [f'S{n}["{o}"]' for n, o in enumerate(objectives)]
    assert lines[4:] == ["S0 --> S1", "S1 --> S2"]


async def test_offline_diagram_labels_cannot_break_out_of_their_quotes_or_add_tags():
    objectives = ('Say "hello"', "Escape <script> tags", "Compare a > b")

    [diagram] = (await _offline(make_brief(objectives=objectives))).diagrams

    labels = diagram.mermaid.splitlines()[1:4]
    assert all(label.count('"') == 2 for label in labels)
    assert "<" not in diagram.mermaid
    assert ">" not in diagram.mermaid.replace("-->", "")


async def test_offline_lesson_lists_at_most_five_references_as_further_reading():
    content = await _offline(make_brief(references=REFERENCES))

    assert [r.url for r in content.further_reading] == [f.url for f in REFERENCES[:5]]


async def test_offline_lesson_about_javascript_urls_validates():
    brief = make_brief(objectives=("Explain why javascript: URLs are dangerous", "Read a CSP"))

    content = await _offline(brief)

    assert content.diagrams[0].mermaid.startswith("flowchart TD")


@pytest.mark.parametrize(
    "source",
    [
        "graph TD\nA-->B; click A call alert(1)",
        'graph TD\n  A-->B;click B href "javascript:alert(1)"',
        'graph TD %%{init: {"securityLevel": "loose"}}%%\nA-->B',
        'graph TD\nA-->B %%{init: {"securityLevel": "loose"}',
        "graph TD\n  A-->B\n  CLICK B callback",
    ],
    ids=[
        "click-after-semicolon",
        "href-after-semicolon",
        "init-mid-line",
        "unclosed-init",
        "upper",
    ],
)
def test_interactions_and_directives_are_removed_anywhere_in_a_line(source: str):
    cleaned = Diagram(title="Flow", mermaid=source).mermaid

    assert "%%{" not in cleaned
    assert "click" not in cleaned.lower()
    assert "href" not in cleaned.lower()
    assert "A-->B" in cleaned
