"""LearnerService: a module's lessons, writing a module at once, marks and prefetch on view."""

from datetime import UTC, datetime

import pytest

from domain.errors import NotFound, QuotaExceeded
from domain.learning import LearnerService
from domain.lesson import GenerationStatus, Lesson
from domain.lesson_requests import LessonRequests
from domain.ports import Allowance
from domain.progress import LearnerProgress, ProgressUpdate
from tests.unit.fakes import (
    USER,
    FakeLessonRepository,
    FakeProgressRepository,
    FakeQueue,
    FakeQuota,
    make_lesson,
)

S = GenerationStatus
MODULE = "module-1"
LONG_AGO = datetime(2024, 3, 1, 9, 30, tzinfo=UTC)
VIEWED = ProgressUpdate(viewed=True)


class World:
    """The service wired to fakes, with the fakes at hand for assertions."""

    def __init__(self, *, lessons_per_hour: int = 30, prefetch_on_view: bool = True) -> None:
        self.lessons = FakeLessonRepository()
        self.progress = FakeProgressRepository()
        self.queue = FakeQueue()
        self.quota = FakeQuota({Allowance.LESSONS: (lessons_per_hour, 3_600)})
        self.service = LearnerService(
            self.lessons,
            self.progress,
            LessonRequests(self.lessons, self.queue, self.quota),
            prefetch_on_view=prefetch_on_view,
        )

    def module(self, *statuses: GenerationStatus, module_id: str = MODULE) -> list[Lesson]:
        """Store a module whose lessons (``m-1``, ``m-2``, … in order) have ``statuses``.

        They are stored last lesson first, so a service relying on storage order shows it.
        """
        lessons = [
            make_lesson(status, id=f"{module_id}-{order}", module_id=module_id, order=order)
            for order, status in enumerate(statuses, start=1)
        ]
        return [self.lessons.put(lesson) for lesson in reversed(lessons)][::-1]

    def status(self, lesson_id: str) -> GenerationStatus:
        """The stored status of one of the learner's lessons."""
        return self.lessons.stored(USER, lesson_id).status


async def test_module_lists_its_lessons_in_order_with_the_learners_marks():
    world = World()
    world.module(S.COMPLETED, S.PENDING, S.QUEUED)
    world.module(S.PENDING, module_id="module-2")
    await world.service.mark(USER, "module-1-2", ProgressUpdate(completed=True))

    module = await world.service.module(USER, MODULE)

    assert module.module_id == MODULE
    assert [(lesson.id, lesson.generation_status) for lesson in module.lessons] == [
        ("module-1-1", S.COMPLETED),
        ("module-1-2", S.PENDING),
        ("module-1-3", S.QUEUED),
    ]
    marked = [
        (lesson.viewed_at is not None, lesson.completed_at is not None) for lesson in module.lessons
    ]
    assert marked == [(False, False), (True, True), (False, False)]


@pytest.mark.parametrize(
    ("user", "module_id"), [(USER, "no-such-module"), ("someone-else", MODULE)]
)
async def test_an_unknown_or_another_users_module_is_not_found(user: str, module_id: str):
    world = World()
    world.module(S.PENDING)

    with pytest.raises(NotFound):
        await world.service.module(user, module_id)
    with pytest.raises(NotFound):
        await world.service.generate_module(user, module_id)

    assert world.queue.messages == []


async def test_generate_module_queues_only_pending_and_failed_lessons_and_charges_that_many():
    world = World()
    world.module(S.COMPLETED, S.FAILED, S.QUEUED, S.PENDING, S.GENERATING)

    queued = await world.service.generate_module(USER, MODULE)

    assert [lesson.id for lesson in queued] == ["module-1-2", "module-1-4"]
    assert {lesson.status for lesson in queued} == {S.QUEUED}
    assert sorted(world.queue.lesson_ids) == ["module-1-2", "module-1-4"]
    assert [world.status(f"module-1-{n}") for n in range(1, 6)] == [
        S.COMPLETED,
        S.QUEUED,
        S.QUEUED,
        S.QUEUED,
        S.GENERATING,
    ]
    assert world.quota.spent(USER, Allowance.LESSONS) == 2


async def test_generate_module_with_nothing_to_write_queues_and_charges_nothing():
    world = World()
    world.module(S.COMPLETED, S.QUEUED, S.GENERATING)

    queued = await world.service.generate_module(USER, MODULE)

    assert queued == []
    assert world.queue.messages == []
    assert world.quota.spent(USER, Allowance.LESSONS) == 0


async def test_generate_module_beyond_the_allowance_queues_the_first_lessons_it_allows():
    world = World(lessons_per_hour=2)
    world.module(S.PENDING, S.PENDING, S.FAILED)

    queued = await world.service.generate_module(USER, MODULE)

    assert [lesson.id for lesson in queued] == ["module-1-1", "module-1-2"]
    assert world.queue.lesson_ids == ["module-1-1", "module-1-2"]
    assert world.quota.spent(USER, Allowance.LESSONS) == 2


async def test_generate_module_with_no_allowance_left_queues_nothing():
    world = World(lessons_per_hour=2)
    await world.quota.take(USER, Allowance.LESSONS, 2)
    before = world.module(S.PENDING, S.PENDING, S.FAILED)

    with pytest.raises(QuotaExceeded):
        await world.service.generate_module(USER, MODULE)

    assert world.lessons.all()[::-1] == before
    assert world.lessons.saved == []
    assert world.queue.messages == []
    assert world.quota.spent(USER, Allowance.LESSONS) == 2


async def test_completing_a_lesson_marks_it_viewed_too():
    world = World()
    world.module(S.COMPLETED)

    view = await world.service.mark(USER, "module-1-1", ProgressUpdate(completed=True))

    assert view.completed_at is not None
    assert view.viewed_at == view.completed_at
    stored = world.progress.stored(USER, "module-1-1")
    assert stored is not None
    assert (stored.viewed_at, stored.completed_at) == (view.viewed_at, view.completed_at)
    assert (stored.roadmap_id, stored.module_id) == ("roadmap-1", MODULE)


async def test_unmarking_clears_the_mark():
    world = World()
    world.module(S.COMPLETED)
    await world.service.mark(USER, "module-1-1", ProgressUpdate(viewed=True, completed=True))

    uncompleted = await world.service.mark(USER, "module-1-1", ProgressUpdate(completed=False))
    unviewed = await world.service.mark(USER, "module-1-1", ProgressUpdate(viewed=False))

    assert uncompleted.completed_at is None
    assert uncompleted.viewed_at is not None
    assert (unviewed.viewed_at, unviewed.completed_at) == (None, None)


async def test_viewing_again_keeps_the_first_viewed_at():
    world = World()
    [lesson] = world.module(S.COMPLETED)
    marks = LearnerProgress.start(lesson)
    marks.viewed_at = LONG_AGO
    await world.progress.put(marks)

    view = await world.service.mark(USER, lesson.id, VIEWED)
    completed = await world.service.mark(USER, lesson.id, ProgressUpdate(completed=True))

    assert view.viewed_at == LONG_AGO
    assert completed.viewed_at == LONG_AGO
    assert completed.completed_at is not None
    assert completed.completed_at > LONG_AGO


async def test_marking_another_users_lesson_is_not_found_and_stores_nothing():
    world = World()
    world.module(S.COMPLETED, S.PENDING)

    with pytest.raises(NotFound):
        await world.service.mark("someone-else", "module-1-1", VIEWED)

    assert world.progress.puts == 0
    assert world.queue.messages == []


@pytest.mark.parametrize("next_status", [S.PENDING, S.FAILED])
async def test_viewing_a_lesson_prefetches_the_next_one_of_its_module(
    next_status: GenerationStatus,
):
    world = World()
    world.module(S.COMPLETED, next_status, S.PENDING)

    view = await world.service.mark(USER, "module-1-1", VIEWED)

    assert view.prefetched_lesson_id == "module-1-2"
    assert world.status("module-1-2") is S.QUEUED
    assert world.status("module-1-3") is S.PENDING
    assert world.queue.lesson_ids == ["module-1-2"]
    assert world.quota.spent(USER, Allowance.LESSONS) == 1


async def test_prefetch_follows_lesson_order_not_storage_order():
    world = World()
    for order in (3, 1, 2):
        world.lessons.put(make_lesson(S.PENDING, id=f"lesson-{order}", order=order))

    view = await world.service.mark(USER, "lesson-1", VIEWED)

    assert view.prefetched_lesson_id == "lesson-2"
    assert world.queue.lesson_ids == ["lesson-2"]


@pytest.mark.parametrize("next_status", [S.QUEUED, S.GENERATING, S.COMPLETED])
async def test_viewing_prefetches_nothing_when_the_next_lesson_needs_no_writing(
    next_status: GenerationStatus,
):
    world = World()
    world.module(S.COMPLETED, next_status, S.PENDING)

    view = await world.service.mark(USER, "module-1-1", VIEWED)

    assert view.prefetched_lesson_id is None
    assert world.status("module-1-2") is next_status
    assert world.status("module-1-3") is S.PENDING
    assert world.queue.messages == []
    assert world.quota.spent(USER, Allowance.LESSONS) == 0


async def test_prefetch_never_spends_past_the_allowance():
    world = World(lessons_per_hour=1)
    world.module(S.COMPLETED, S.PENDING)
    await world.quota.take(USER, Allowance.LESSONS)

    view = await world.service.mark(USER, "module-1-1", VIEWED)

    assert view.prefetched_lesson_id is None
    assert view.viewed_at is not None
    stored = world.progress.stored(USER, "module-1-1")
    assert stored is not None
    assert stored.viewed_at == view.viewed_at
    assert world.status("module-1-2") is S.PENDING
    assert world.queue.messages == []
    assert world.quota.spent(USER, Allowance.LESSONS) == 1


async def test_viewing_prefetches_nothing_when_prefetch_is_off():
    world = World(prefetch_on_view=False)
    world.module(S.COMPLETED, S.PENDING)

    view = await world.service.mark(USER, "module-1-1", VIEWED)

    assert view.prefetched_lesson_id is None
    assert view.viewed_at is not None
    assert world.status("module-1-2") is S.PENDING
    assert world.queue.messages == []


async def test_viewing_the_last_lesson_of_a_module_prefetches_nothing():
    world = World()
    world.module(S.PENDING, S.COMPLETED)
    world.module(S.PENDING, module_id="module-2")

    view = await world.service.mark(USER, "module-1-2", VIEWED)

    assert view.prefetched_lesson_id is None
    assert world.status("module-1-1") is S.PENDING
    assert world.status("module-2-1") is S.PENDING
    assert world.queue.messages == []


async def test_unviewing_a_lesson_prefetches_nothing():
    world = World()
    world.module(S.COMPLETED, S.PENDING)

    view = await world.service.mark(USER, "module-1-1", ProgressUpdate(viewed=False))

    assert view.prefetched_lesson_id is None
    assert world.queue.messages == []


async def test_lesson_comes_with_the_learners_marks():
    world = World()
    world.module(S.COMPLETED)
    marked = await world.service.mark(USER, "module-1-1", ProgressUpdate(completed=True))

    view, _ = await world.service.lesson(USER, "module-1-1")

    assert (view.viewed_at, view.completed_at) == (marked.viewed_at, marked.completed_at)


async def test_the_lesson_version_tag_changes_only_when_the_lesson_or_the_marks_change():
    world = World()
    world.module(S.PENDING)
    _, first = await world.service.lesson(USER, "module-1-1")
    _, unchanged = await world.service.lesson(USER, "module-1-1")

    lesson = world.lessons.stored(USER, "module-1-1")
    lesson.queue()
    await world.lessons.save(lesson)
    _, after_queue = await world.service.lesson(USER, "module-1-1")

    await world.service.mark(USER, "module-1-1", ProgressUpdate(viewed=True))
    _, after_view = await world.service.lesson(USER, "module-1-1")
    await world.service.mark(USER, "module-1-1", ProgressUpdate(completed=True))
    _, after_completion = await world.service.lesson(USER, "module-1-1")

    assert unchanged == first
    assert len({first, after_queue, after_view, after_completion}) == 4


async def test_another_users_lesson_is_not_found():
    world = World()
    world.module(S.COMPLETED)

    with pytest.raises(NotFound):
        await world.service.lesson("someone-else", "module-1-1")
