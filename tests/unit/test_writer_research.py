"""LessonWriter with research: findings ground the lesson, become its sources and its reading."""

import json
from functools import partial
from urllib.parse import urlsplit

import pytest

from adapters.markdown import clean_markdown, links_only_to
from domain.base import utcnow
from domain.briefs import brief_for, query_for
from domain.lesson import GenerationStatus, Lesson, Source, Stage
from domain.lesson_writer import NO_RESEARCH, LessonWriter
from domain.ports import GenerationMessage, LessonBrief, LlmProvider
from domain.research import DOCS, GITHUB, STACKOVERFLOW, Digest, ResearchQuery
from tests.support.html_audit import audit
from tests.support.samples import lesson_json
from tests.unit.fakes import (
    USER,
    FakeLessonRepository,
    FakeProvider,
    chain_of,
    make_lesson,
    offline_lesson_data,
)
from tests.unit.research_fakes import FakeResearcher, finding, published

S = GenerationStatus
MESSAGE = GenerationMessage(lesson_id="lesson-1", user_id=USER, requested_at=utcnow())
BUDGET = 25.0
FINDINGS = [
    finding(DOCS, 1, url="https://www.example.com/guide/", published_at=published(2024)),
    finding(STACKOVERFLOW, 2, url="https://stackoverflow.com/q/123"),
    finding(GITHUB, 3, published_at=published(2023)),
]


def _writer(
    lessons: FakeLessonRepository,
    provider: LlmProvider,
    researcher: FakeResearcher | None = None,
) -> LessonWriter:
    return LessonWriter(lessons, chain_of(provider).chain, budget=BUDGET, researcher=researcher)


def _stages(lessons: FakeLessonRepository) -> list[Stage]:
    return [stage for _, _, stage in lessons.saved]


def _written_with_reading(*urls: str) -> str:
    data = lesson_json()
    data["furtherReading"] = [{"title": f"Page {n}", "url": url} for n, url in enumerate(urls)]
    return json.dumps(data)


async def _write(
    provider: LlmProvider, researcher: FakeResearcher | None, **lesson: object
) -> tuple[FakeLessonRepository, Lesson]:
    lessons = FakeLessonRepository()
    lessons.put(make_lesson(S.QUEUED, **lesson))
    await _writer(lessons, provider, researcher).handle(MESSAGE)
    return lessons, lessons.stored(USER, "lesson-1")


async def test_progress_goes_through_researching_before_writing():
    lessons = FakeLessonRepository()
    lessons.put(make_lesson(S.QUEUED))
    stored_while_researching: list[tuple[GenerationStatus, Stage]] = []

    def look() -> None:
        stored = lessons.stored(USER, "lesson-1")
        stored_while_researching.append((stored.status, stored.progress.stage))

    researcher = FakeResearcher(Digest(FINDINGS, answered=[DOCS]), before=look)

    await _writer(lessons, FakeProvider("groq"), researcher).handle(MESSAGE)

    assert _stages(lessons) == [Stage.STARTING, Stage.RESEARCHING, Stage.WRITING, Stage.DONE]
    assert stored_while_researching == [(S.GENERATING, Stage.RESEARCHING)]
    assert lessons.stored(USER, "lesson-1").status is S.COMPLETED


async def test_stored_sources_are_the_findings_in_order():
    _, stored = await _write(FakeProvider("groq"), FakeResearcher(Digest(FINDINGS)))

    assert stored.sources == [Source.of(f) for f in FINDINGS]
    assert [(s.kind, s.title, s.url, s.published_at) for s in stored.sources] == [
        (f.kind, f.title, f.url, f.published_at) for f in FINDINGS
    ]
    assert stored.research_note is None


async def test_sources_keep_kind_title_url_and_publication_date_only():
    _, stored = await _write(FakeProvider("groq"), FakeResearcher(Digest(FINDINGS)))

    document = stored.model_dump(mode="json", by_alias=True)

    assert [set(source) for source in document["sources"]] == [
        {"kind", "title", "url", "publishedAt"}
    ] * len(FINDINGS)
    assert document["sources"][0]["publishedAt"] == "2024-03-01T12:00:00Z"
    assert document["sources"][1]["publishedAt"] is None
    assert document["researchNote"] is None


async def test_empty_digest_completes_the_lesson_saying_it_was_not_researched():
    lessons, stored = await _write(FakeProvider("groq"), FakeResearcher(Digest(findings=[])))

    assert stored.status is S.COMPLETED
    assert stored.sources == []
    assert stored.research_note == NO_RESEARCH
    assert _stages(lessons) == [Stage.STARTING, Stage.RESEARCHING, Stage.WRITING, Stage.DONE]


async def test_without_a_researcher_there_is_no_researching_stage_and_the_note_is_set():
    groq = FakeProvider("groq")

    lessons, stored = await _write(groq, None)

    assert _stages(lessons) == [Stage.STARTING, Stage.WRITING, Stage.DONE]
    assert stored.status is S.COMPLETED
    assert stored.sources == []
    assert stored.research_note == NO_RESEARCH
    [task] = groq.tasks
    assert isinstance(task.brief, LessonBrief)
    assert task.brief.references == ()


async def test_further_reading_keeps_only_pages_among_the_findings():
    kept_same_page = "http://example.com/guide#answers"  # FINDINGS[0] up to normalisation
    kept_tracked = "https://stackoverflow.com/q/123/?utm_source=llm"  # FINDINGS[1]
    invented = "https://made-up.example.org/guide"
    other_page = "https://www.example.com/guide/part-2"
    groq = FakeProvider(
        "groq", lesson=[_written_with_reading(kept_same_page, invented, other_page, kept_tracked)]
    )

    _, stored = await _write(groq, FakeResearcher(Digest(FINDINGS)))

    assert stored.content is not None
    assert [r.url for r in stored.content.further_reading] == [kept_same_page, kept_tracked]


async def test_without_findings_no_further_reading_survives():
    groq = FakeProvider("groq", lesson=[_written_with_reading("https://docs.python.org/3/")])

    _, stored = await _write(groq, FakeResearcher(Digest(findings=[])))

    assert stored.content is not None
    assert stored.content.further_reading == []


async def test_provider_receives_the_findings_as_references_of_the_brief():
    groq = FakeProvider("groq")
    lessons = FakeLessonRepository()
    lesson = lessons.put(make_lesson(S.QUEUED))

    await _writer(lessons, groq, FakeResearcher(Digest(FINDINGS))).handle(MESSAGE)

    [task] = groq.tasks
    assert isinstance(task.brief, LessonBrief)
    assert task.brief.references == tuple(FINDINGS)
    assert task.brief == brief_for(lesson, tuple(FINDINGS))


async def test_researcher_is_asked_about_the_lesson_being_written():
    researcher = FakeResearcher(Digest(FINDINGS))

    await _write(
        FakeProvider("groq"),
        researcher,
        title="Pandas DataFrames",
        goal="Learn Python for data analysis",
        module_title="Pandas foundations",
    )

    assert researcher.queries == [
        ResearchQuery(text="Pandas DataFrames", tags=("python", "data", "analysis", "pandas"))
    ]


def test_query_uses_the_lesson_title_as_text():
    lesson = make_lesson(title="HTTP status codes", goal="Build web APIs with FastAPI")

    assert query_for(lesson).text == "HTTP status codes"


def test_query_tags_keep_technology_words_and_drop_common_ones():
    lesson = make_lesson(
        goal="I want to learn the basics of Python and pandas",
        module_title="Introduction to NumPy",
    )

    assert query_for(lesson).tags == ("python", "pandas", "numpy")


def test_query_tags_keep_the_signs_and_dots_of_technology_names():
    lesson = make_lesson(goal="Master C++, C# and Node.js", module_title="Getting started")

    assert query_for(lesson).tags[:3] == ("c++", "c#", "node.js")


def test_query_tags_are_unique_and_at_most_six():
    lesson = make_lesson(
        goal="Python python Django Flask FastAPI SQLAlchemy Celery Redis Docker",
        module_title="Python and Docker",
    )

    assert query_for(lesson).tags == (
        "python",
        "django",
        "flask",
        "fastapi",
        "sqlalchemy",
        "celery",
    )


@pytest.mark.parametrize("goal", ["Learn the basics.", "Learn the fundamentals."])
def test_common_word_at_the_end_of_a_sentence_is_not_a_tag(goal: str):
    lesson = make_lesson(goal=goal, module_title="Core concepts")

    assert query_for(lesson).tags == ()


@pytest.mark.parametrize(("goal", "language"), [("Learn C", "c"), ("Statistics with R", "r")])
def test_one_letter_language_is_a_tag(goal: str, language: str):
    lesson = make_lesson(goal=goal, module_title="Core concepts")

    assert language in query_for(lesson).tags


def test_brief_carries_references_in_the_order_given():
    lesson = make_lesson()
    references = (FINDINGS[2], FINDINGS[0])

    brief = brief_for(lesson, references)

    assert brief.references == references
    assert (brief.title, brief.goal, brief.objectives) == (
        lesson.title,
        lesson.goal,
        tuple(lesson.objectives),
    )


def test_brief_without_references_has_none():
    assert brief_for(make_lesson()).references == ()


async def test_links_to_hosts_other_than_the_sources_and_official_docs_stay_text():
    data = await offline_lesson_data()
    data["sections"][0]["body"] = (
        "Read [the tutorial](https://docs.python.org/3/tutorial/), "
        "[this answer](https://stackoverflow.com/q/1) and [a blog](https://evil.example/x)."
    )
    lessons = FakeLessonRepository()
    lessons.put(make_lesson(GenerationStatus.QUEUED))
    found = finding(STACKOVERFLOW, url="https://stackoverflow.com/q/1")
    writer = LessonWriter(
        lessons,
        chain_of(FakeProvider("groq", lesson=[json.dumps(data)])).chain,
        budget=30.0,
        researcher=FakeResearcher(Digest(findings=[found], answered=[STACKOVERFLOW])),
        links=lambda urls: partial(
            clean_markdown, allowed_hosts=links_only_to(["docs.python.org", *map(_host, urls)])
        ),
    )

    await writer.handle(MESSAGE)

    stored = lessons.stored(USER, "lesson-1")
    assert stored.content is not None
    linked = audit(stored.content.sections[0].body).urls
    assert linked == ["https://docs.python.org/3/tutorial/", "https://stackoverflow.com/q/1"]
    assert "a blog" in stored.content.sections[0].body


def _host(url: str) -> str:
    return urlsplit(url).hostname or ""
