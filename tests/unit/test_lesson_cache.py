"""The shared lesson cache: identical lessons, anyone's, cost one model call; nothing else does."""

from dataclasses import fields
from typing import Any

import pytest

from adapters.llm.offline import PROVIDER as OFFLINE
from adapters.llm.offline import OfflineProvider
from domain.base import utcnow
from domain.errors import ProviderRateLimited
from domain.lesson import GenerationStatus, Lesson
from domain.lesson_cache import TEMPLATE_PROVIDERS, cache_key
from domain.lesson_writer import LessonWriter
from domain.ports import GenerationMessage, LessonBrief, LlmProvider
from domain.research import DOCS, Digest
from domain.telemetry import LESSON_CACHE_LOOKUPS, LESSON_FALLBACKS, LESSONS_COMPLETED
from domain.views import LessonView
from tests.unit.fakes import (
    FakeLessonCache,
    FakeLessonRepository,
    FakeProvider,
    chain_of,
    make_brief,
    make_lesson,
    trail,
)
from tests.unit.research_fakes import FakeResearcher, finding
from tests.unit.telemetry_fakes import Exported

S = GenerationStatus
BUDGET = 25.0
VERSION = "prompts-v1"
ALICE, BOB = "alice", "bob"


def _writer(
    lessons: FakeLessonRepository,
    cache: FakeLessonCache | None,
    *providers: LlmProvider,
    version: str = VERSION,
    **options: Any,
) -> LessonWriter:
    return LessonWriter(
        lessons,
        chain_of(*providers).chain,
        budget=BUDGET,
        cache=cache,
        prompt_version=lambda: version,
        **options,
    )


async def _write(writer: LessonWriter, lessons: FakeLessonRepository, lesson: Lesson) -> Lesson:
    """Store ``lesson`` queued, deliver its message, return what is stored afterwards."""
    lesson.queue()
    lessons.put(lesson)
    message = GenerationMessage(lesson_id=lesson.id, user_id=lesson.user_id, requested_at=utcnow())
    await writer.handle(message)
    return lessons.stored(lesson.user_id, lesson.id)


def _for(user: str, **overrides: Any) -> Lesson:
    return make_lesson(id=f"lesson-of-{user}", user_id=user, **overrides)


async def test_identical_lessons_of_two_learners_cost_one_provider_call():
    lessons, cache, groq = FakeLessonRepository(), FakeLessonCache(), FakeProvider("groq")
    writer = _writer(lessons, cache, groq)

    first = await _write(writer, lessons, _for(ALICE))
    second = await _write(writer, lessons, _for(BOB))

    assert groq.calls == 1
    assert (first.status, second.status) == (S.COMPLETED, S.COMPLETED)
    assert first.reused_from is None
    assert second.reused_from == first.id
    assert second.content == first.content
    assert (second.provider, second.model) == ("groq", "groq-model")
    assert second.usage is None  # no tokens were spent on it
    assert trail(second.attempts) == [("cache", "reused")]


async def test_reuse_ignores_case_and_spacing_of_the_learners_text():
    lessons, cache, groq = FakeLessonRepository(), FakeLessonCache(), FakeProvider("groq")
    writer = _writer(lessons, cache, groq)

    await _write(writer, lessons, _for(ALICE, goal="Build web APIs with Python"))
    second = await _write(writer, lessons, _for(BOB, goal="  build  WEB apis\twith python "))

    assert groq.calls == 1
    assert second.reused_from == "lesson-of-alice"


@pytest.mark.parametrize(
    "difference",
    [
        {"objectives": ["Explain a request and a response", "Send a request"]},
        {"objectives": ["Read a status code", "Explain a request and a response"]},
        {"goal": "Build web APIs with Go"},
        {"skill_level": "advanced"},
        {"module_title": "Going further"},
        {"title": "HTTP in ten minutes"},
        {"description": "Headers and bodies."},
        {"estimated_minutes": 45},
    ],
)
async def test_a_lesson_differing_in_any_input_is_written_anew(difference: dict[str, Any]):
    lessons, cache, groq = FakeLessonRepository(), FakeLessonCache(), FakeProvider("groq")
    writer = _writer(lessons, cache, groq)

    await _write(writer, lessons, _for(ALICE))
    second = await _write(writer, lessons, _for(BOB, **difference))

    assert groq.calls == 2
    assert second.reused_from is None


async def test_a_lesson_written_under_other_prompts_is_not_reused():
    lessons, cache, groq = FakeLessonRepository(), FakeLessonCache(), FakeProvider("groq")

    await _write(_writer(lessons, cache, groq, version="v1"), lessons, _for(ALICE))
    second = await _write(_writer(lessons, cache, groq, version="v2"), lessons, _for(BOB))

    assert groq.calls == 2
    assert second.reused_from is None


async def test_forced_rewrite_calls_a_provider_and_shares_the_new_content():
    lessons, cache = FakeLessonRepository(), FakeLessonCache()
    groq = FakeProvider("groq")
    writer = _writer(lessons, cache, groq)
    await _write(writer, lessons, _for(ALICE))
    reused = await _write(writer, lessons, _for(BOB))
    assert reused.reused_from == "lesson-of-alice"

    reused.queue(force=True)
    lessons.put(reused)
    await writer.handle(GenerationMessage(lesson_id=reused.id, user_id=BOB, requested_at=utcnow()))

    rewritten = lessons.stored(BOB, reused.id)
    assert groq.calls == 2
    assert rewritten.status is S.COMPLETED
    assert rewritten.reused_from is None
    assert trail(rewritten.attempts) == [("groq", "ok")]
    third = await _write(writer, lessons, _for("carol"))
    assert third.reused_from == rewritten.id  # the newest content is the one shared


async def test_a_failed_forced_rewrite_retried_does_not_get_its_own_old_content_back():
    lessons, cache = FakeLessonRepository(), FakeLessonCache()
    groq = FakeProvider("groq")
    writer = _writer(lessons, cache, groq)
    lesson = await _write(writer, lessons, _for(ALICE))
    lesson.queue(force=True)
    lesson.start("worker", utcnow())
    lesson.fail("no provider could write it")
    lessons.put(lesson)

    retried = await _write(writer, lessons, lesson)

    assert groq.calls == 2
    assert retried.reused_from is None


async def test_without_the_cache_every_lesson_calls_a_provider():
    lessons, groq = FakeLessonRepository(), FakeProvider("groq")
    writer = _writer(lessons, None, groq)

    await _write(writer, lessons, _for(ALICE))
    second = await _write(writer, lessons, _for(BOB))

    assert groq.calls == 2
    assert second.reused_from is None


async def test_an_unreachable_cache_costs_a_provider_call_not_the_lesson():
    lessons, cache, groq = FakeLessonRepository(), FakeLessonCache(), FakeProvider("groq")
    cache.fail()
    writer = _writer(lessons, cache, groq)

    first = await _write(writer, lessons, _for(ALICE))
    second = await _write(writer, lessons, _for(BOB))

    assert (first.status, second.status) == (S.COMPLETED, S.COMPLETED)
    assert groq.calls == 2
    assert cache.gets == 2


async def test_offline_template_content_is_never_shared():
    lessons, cache = FakeLessonRepository(), FakeLessonCache()
    down = FakeProvider("groq", lesson=[ProviderRateLimited("429", retry_after=None)])
    first = await _write(_writer(lessons, cache, down, OfflineProvider()), lessons, _for(ALICE))
    assert first.provider == OFFLINE
    assert cache.entries == {}
    groq = FakeProvider("groq")

    second = await _write(_writer(lessons, cache, groq, OfflineProvider()), lessons, _for(BOB))

    assert groq.calls == 1
    assert (second.provider, second.reused_from) == ("groq", None)


async def test_a_reused_lesson_is_not_researched_and_keeps_the_originals_sources():
    lessons, cache, groq = FakeLessonRepository(), FakeLessonCache(), FakeProvider("groq")
    researcher = FakeResearcher(Digest(findings=[finding(DOCS, 1)], answered=[DOCS]))
    writer = _writer(lessons, cache, groq, researcher=researcher)

    first = await _write(writer, lessons, _for(ALICE))
    second = await _write(writer, lessons, _for(BOB))

    assert len(researcher.queries) == 1
    assert second.sources == first.sources
    assert [source.kind for source in second.sources] == [DOCS]
    assert second.research_note == first.research_note


async def test_cache_hits_and_misses_are_counted_and_a_reuse_is_no_fallback(exported: Exported):
    lessons, cache, groq = FakeLessonRepository(), FakeLessonCache(), FakeProvider("groq")
    writer = _writer(lessons, cache, groq, telemetry=exported.reporter)

    await _write(writer, lessons, _for(ALICE))
    await _write(writer, lessons, _for(BOB))

    outcomes = {
        p.attributes["skillsync.outcome"]: p.value for p in exported.points(LESSON_CACHE_LOOKUPS)
    }
    assert outcomes == {"miss": 1, "hit": 1}
    completed = {
        p.attributes["skillsync.provider"]: p.value for p in exported.points(LESSONS_COMPLETED)
    }
    assert completed == {"groq": 1, "cache": 1}
    assert exported.points(LESSON_FALLBACKS) == []


async def test_the_lesson_view_says_where_reused_content_came_from():
    lessons, cache, groq = FakeLessonRepository(), FakeLessonCache(), FakeProvider("groq")
    writer = _writer(lessons, cache, groq)
    await _write(writer, lessons, _for(ALICE))

    second = await _write(writer, lessons, _for(BOB))

    view = LessonView.of(second).model_dump(mode="json")
    assert view["reusedFrom"] == "lesson-of-alice"
    assert second.model_dump(mode="json")["reusedFrom"] == "lesson-of-alice"


def test_the_key_ignores_research_and_normalises_text_but_not_order():
    brief = make_brief()
    researched = make_brief(references=(finding(DOCS, 1),))
    shouted = make_brief(title="  HTTP IN FIVE\nMINUTES ")
    reordered = make_brief(objectives=tuple(reversed(brief.objectives)))

    assert cache_key(researched, VERSION) == cache_key(brief, VERSION)
    assert cache_key(shouted, VERSION) == cache_key(brief, VERSION)
    assert cache_key(reordered, VERSION) != cache_key(brief, VERSION)
    assert cache_key(brief, "other") != cache_key(brief, VERSION)
    assert len(cache_key(brief, VERSION)) == 64


@pytest.mark.parametrize("name", [f.name for f in fields(LessonBrief) if f.name != "references"])
def test_every_field_the_provider_is_told_is_part_of_the_key(name: str):
    brief = make_brief()
    value = getattr(brief, name)
    if isinstance(value, tuple):
        changed: object = (*value, "one more")
    else:
        changed = value + 1 if isinstance(value, int) else f"{value} more"

    assert cache_key(make_brief(**{name: changed}), VERSION) != cache_key(brief, VERSION)


def test_the_offline_providers_label_is_a_template_provider():
    assert OFFLINE in TEMPLATE_PROVIDERS
