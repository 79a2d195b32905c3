"""The fakes keep the ports' contracts; the service tests are only as good as they are."""

import pytest

from domain.base import utcnow
from domain.content import LessonContent
from domain.errors import ConcurrencyConflict, NotFound, ProviderUnavailable, StorageUnavailable
from domain.lesson import GenerationStatus
from domain.ports import GenerationMessage, LlmTask, RoadmapBrief, TaskKind
from domain.roadmap import RoadmapOutline
from tests.unit.fakes import (
    USER,
    FakeClock,
    FakeLessonRepository,
    FakeProvider,
    FakeQueue,
    RecordingSleep,
    make_brief,
    make_lesson,
    offline_draft,
)


async def test_save_bumps_the_version_of_the_saved_copy():
    repo = FakeLessonRepository()
    repo.put(make_lesson())
    lesson = await repo.get(USER, "lesson-1")
    before = lesson.version

    lesson.queue()
    await repo.save(lesson)

    assert lesson.version != before
    assert repo.stored(USER, "lesson-1").version == lesson.version
    assert repo.stored(USER, "lesson-1").status is GenerationStatus.QUEUED


async def test_save_with_a_stale_version_is_a_concurrency_conflict():
    repo = FakeLessonRepository()
    repo.put(make_lesson())
    first = await repo.get(USER, "lesson-1")
    second = await repo.get(USER, "lesson-1")
    first.queue()
    await repo.save(first)

    second.queue()
    with pytest.raises(ConcurrencyConflict):
        await repo.save(second)
    assert repo.stored(USER, "lesson-1").version == first.version


async def test_changing_a_read_copy_does_not_change_the_stored_lesson():
    repo = FakeLessonRepository()
    repo.put(make_lesson())
    lesson = await repo.get(USER, "lesson-1")

    lesson.queue()

    assert repo.stored(USER, "lesson-1").status is GenerationStatus.PENDING


async def test_another_users_lesson_is_not_found():
    repo = FakeLessonRepository()
    repo.put(make_lesson())

    with pytest.raises(NotFound):
        await repo.get("someone-else", "lesson-1")


async def test_refusing_queue_raises_storage_unavailable_and_records_nothing():
    queue = FakeQueue()
    queue.refuse()
    message = GenerationMessage(lesson_id="lesson-1", user_id=USER, requested_at=utcnow())

    with pytest.raises(StorageUnavailable):
        await queue.enqueue(message)
    assert queue.messages == []


async def test_fake_provider_answers_from_its_script_per_task_kind_then_like_offline():
    lesson_task = LlmTask(kind=TaskKind.LESSON, brief=make_brief(), schema=LessonContent)
    provider = FakeProvider("groq", lesson=['{"first": 1}', ProviderUnavailable("503")])

    first = await provider.generate(lesson_task, time_limit=3.0)
    with pytest.raises(ProviderUnavailable):
        await provider.generate(lesson_task, time_limit=2.0)
    then = await provider.generate(lesson_task, time_limit=1.0)

    assert (first.payload, first.provider, first.model) == ('{"first": 1}', "groq", "groq-model")
    assert then.payload == (await offline_draft(make_brief())).payload
    assert then.provider == "groq"
    assert provider.tasks == [lesson_task] * 3
    assert provider.time_limits == [3.0, 2.0, 1.0]
    assert provider.needs_network is True


async def test_fake_provider_keeps_outline_replies_for_outline_tasks():
    brief = RoadmapBrief(goal="Learn SQL", skill_level="beginner", weekly_hours=None)
    outline_task = LlmTask(kind=TaskKind.OUTLINE, brief=brief, schema=RoadmapOutline)
    lesson_task = LlmTask(kind=TaskKind.LESSON, brief=make_brief(), schema=LessonContent)
    provider = FakeProvider(outline=["outline reply"])

    lesson = await provider.generate(lesson_task, time_limit=1.0)
    outline = await provider.generate(outline_task, time_limit=1.0)

    assert lesson.payload != "outline reply"
    assert outline.payload == "outline reply"


async def test_recording_sleep_returns_at_once_and_moves_the_fake_clock():
    clock = FakeClock(start=10.0)
    sleep = RecordingSleep(clock)

    await sleep(2.5)
    await sleep(0.5)

    assert sleep.pauses == [2.5, 0.5]
    assert clock() == 13.0
