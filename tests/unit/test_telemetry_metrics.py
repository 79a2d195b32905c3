"""The metrics operators watch, recorded where the work happens: research, allowances, fallbacks."""

import pytest

from domain.errors import ProviderUnavailable, QuotaExceeded
from domain.lesson_requests import LessonRequests
from domain.ports import Allowance
from domain.research import Researcher, ResearchQuery
from domain.telemetry import (
    GENERATION_DURATION,
    LESSON_FALLBACKS,
    PROVIDER_BREAKER_OPENS,
    QUOTA_REFUSALS,
    RESEARCH_CACHE,
    RESEARCH_SOURCES,
)
from tests.unit.fakes import (
    USER,
    FakeLessonRepository,
    FakeProvider,
    FakeQueue,
    FakeQuota,
    make_lesson,
)
from tests.unit.http_fakes import Served
from tests.unit.research_fakes import FakeResearchCache, ScriptedSource, finding, hanging_source
from tests.unit.telemetry_fakes import Exported

QUERY = ResearchQuery(text="List comprehensions", tags=("python",))


async def test_each_research_source_and_the_cache_are_counted_by_outcome(exported: Exported):
    researcher = Researcher(
        [
            ScriptedSource("docs", [finding("docs")]),
            ScriptedSource("github", []),
            ScriptedSource("devto", error=RuntimeError("boom")),
            hanging_source("youtube"),
        ],
        FakeResearchCache(),
        source_timeout=0.05,
        budget=5.0,
        tokens=4_000,
        telemetry=exported.reporter,
    )

    await researcher.research(QUERY)
    await researcher.research(QUERY)  # the second time from the cache

    outcomes = {
        p.attributes["skillsync.source"]: p.attributes["skillsync.outcome"]
        for p in exported.points(RESEARCH_SOURCES)
    }
    assert outcomes == {
        "docs": "found",
        "github": "empty",
        "devto": "failed",
        "youtube": "timeout",
    }
    cache = {p.attributes["skillsync.outcome"]: p.value for p in exported.points(RESEARCH_CACHE)}
    assert cache == {"miss": 1, "hit": 1}


async def test_a_refused_allowance_is_counted_by_kind(exported: Exported):
    lessons = FakeLessonRepository()
    await lessons.add_all([make_lesson()])
    quota = FakeQuota({Allowance.LESSONS: (1, 3_600)})
    await quota.take(USER, Allowance.LESSONS)  # the one lesson of the hour is spent
    requests = LessonRequests(lessons, FakeQueue(), quota, telemetry=exported.reporter)

    with pytest.raises(QuotaExceeded):
        await requests.request(USER, "lesson-1")

    (refused,) = exported.points(QUOTA_REFUSALS)
    assert (refused.value, dict(refused.attributes)) == (1, {"skillsync.allowance": "lessons"})


async def test_a_lesson_written_by_a_later_provider_is_a_fallback(exported: Exported):
    groq = FakeProvider("groq", lesson=[ProviderUnavailable("500"), ProviderUnavailable("500")])
    gemini = FakeProvider("gemini")
    with Served(telemetry=exported.reporter, providers=[groq, gemini]) as served:
        await served.lessons.add_all([make_lesson()])
        await served.call("generate_lesson", lessonId="lesson-1")
        await served.services.writer.handle(served.queue.messages[0])

    (fallback,) = exported.points(LESSON_FALLBACKS)
    assert (fallback.value, dict(fallback.attributes)) == (1, {"skillsync.provider": "gemini"})
    (duration,) = exported.points(GENERATION_DURATION)
    assert duration.count == 1
    assert dict(duration.attributes) == {"skillsync.provider": "gemini"}


async def test_an_opened_circuit_breaker_is_counted(exported: Exported):
    failures = [ProviderUnavailable("500")] * 3
    groq = FakeProvider("groq", lesson=failures)
    gemini = FakeProvider("gemini")
    with Served(telemetry=exported.reporter, providers=[groq, gemini]) as served:
        await served.lessons.add_all([make_lesson(), make_lesson(id="lesson-2")])
        for lesson_id in ("lesson-1", "lesson-2"):
            await served.call("generate_lesson", lessonId=lesson_id)
        for message in served.queue.messages:
            await served.services.writer.handle(message)

    (opened,) = exported.points(PROVIDER_BREAKER_OPENS)
    assert opened.value == 1
    assert dict(opened.attributes) == {"skillsync.provider": "groq", "skillsync.outcome": "opened"}
