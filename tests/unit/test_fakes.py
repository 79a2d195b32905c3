"""The fakes keep the ports' contracts; the service tests are only as good as they are."""

import pytest

from domain.base import utcnow
from domain.content import LessonContent
from domain.errors import (
    ConcurrencyConflict,
    NotFound,
    ProviderUnavailable,
    QuotaExceeded,
    StorageUnavailable,
)
from domain.lesson import GenerationStatus
from domain.ports import GenerationMessage, LlmTask, RoadmapBrief, TaskKind
from domain.progress import LearnerProgress
from domain.roadmap import RoadmapOutline
from tests.unit.fakes import (
    USER,
    FakeClock,
    FakeLessonRepository,
    FakeProgressRepository,
    FakeProvider,
    FakeQueue,
    FakeQuota,
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


async def test_module_and_status_listings_hold_only_the_users_own_lessons():
    repo = FakeLessonRepository()
    repo.put(make_lesson(id="mine"))
    repo.put(make_lesson(id="other-module", module_id="module-2"))
    repo.put(make_lesson(id="theirs", user_id="someone-else"))

    module = await repo.list_for_module(USER, "module-1")
    statuses = await repo.statuses(USER)

    assert [lesson.id for lesson in module] == ["mine"]
    assert sorted(summary.id for summary in statuses) == ["mine", "other-module"]
    assert await repo.list_for_module("someone-else", "module-2") == []


async def test_progress_is_stored_as_a_copy_per_user_and_lesson():
    repo = FakeProgressRepository()
    progress = LearnerProgress.start(make_lesson())
    await repo.put(progress)

    progress.viewed_at = utcnow()

    stored = await repo.get(USER, "lesson-1")
    assert stored is not None
    assert stored.viewed_at is None
    assert await repo.get("someone-else", "lesson-1") is None
    assert [p.lesson_id for p in await repo.for_roadmap(USER, "roadmap-1")] == ["lesson-1"]
    assert await repo.for_roadmap(USER, "roadmap-2") == []
    assert len(await repo.for_roadmap(USER, None)) == 1


async def test_fake_quota_refuses_without_spending_and_starts_afresh_each_window():
    quota = FakeQuota({"lessons": (2, 3_600)})
    await quota.take(USER, "lessons")

    with pytest.raises(QuotaExceeded) as refused:
        await quota.take(USER, "lessons", 2)
    quota.clock.advance(600)
    await quota.take(USER, "lessons")
    with pytest.raises(QuotaExceeded) as later:
        await quota.take(USER, "lessons")
    await quota.take("someone-else", "lessons", 2)
    quota.clock.advance(3_000)

    assert (refused.value.retry_after, later.value.retry_after) == (3_600, 3_000)
    assert quota.spent(USER, "lessons") == 0
    await quota.take(USER, "lessons", 2)
    assert quota.spent(USER, "lessons") == 2
