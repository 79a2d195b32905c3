"""LessonRequests spends the learner's lesson allowance, and withdraws queued requests."""

import pytest

from domain.errors import IllegalTransition, QuotaExceeded, StorageUnavailable
from domain.lesson import GenerationStatus
from domain.lesson_requests import LessonRequests
from domain.lesson_writer import LessonWriter
from domain.ports import Allowance
from tests.unit.fakes import (
    USER,
    FakeLessonRepository,
    FakeProvider,
    FakeQueue,
    FakeQuota,
    chain_of,
    make_lesson,
)

S = GenerationStatus
ONE_LEFT = 1


class World:
    """Requests wired to fakes, with an allowance of ``lessons_per_hour``."""

    def __init__(self, lessons_per_hour: int = 30) -> None:
        self.lessons = FakeLessonRepository()
        self.queue = FakeQueue()
        self.quota = FakeQuota({Allowance.LESSONS: (lessons_per_hour, 3_600)})
        self.requests = LessonRequests(self.lessons, self.queue, self.quota)

    @property
    def spent(self) -> int:
        """Lessons the learner has spent in the current window."""
        return self.quota.spent(USER, Allowance.LESSONS)


@pytest.mark.parametrize("status", [S.PENDING, S.FAILED])
async def test_a_request_that_queues_spends_one_lesson(status: GenerationStatus):
    world = World()
    world.lessons.put(make_lesson(status))

    lesson = await world.requests.request(USER, "lesson-1")

    assert lesson.status is S.QUEUED
    assert world.queue.lesson_ids == ["lesson-1"]
    assert world.spent == 1


async def test_a_forced_rewrite_of_a_completed_lesson_spends_one_lesson():
    world = World()
    world.lessons.put(make_lesson(S.COMPLETED))

    await world.requests.request(USER, "lesson-1", force=True)

    assert world.queue.lesson_ids == ["lesson-1"]
    assert world.spent == 1


@pytest.mark.parametrize("status", [S.QUEUED, S.GENERATING, S.COMPLETED])
async def test_a_request_that_queues_nothing_spends_nothing(status: GenerationStatus):
    world = World()
    world.lessons.put(make_lesson(status))

    lesson = await world.requests.request(USER, "lesson-1")

    assert lesson.status is status
    assert world.queue.messages == []
    assert world.spent == 0


async def test_a_duplicate_request_spends_only_the_first_time():
    world = World()
    world.lessons.put(make_lesson(S.PENDING))

    await world.requests.request(USER, "lesson-1")
    await world.requests.request(USER, "lesson-1")

    assert world.queue.lesson_ids == ["lesson-1"]
    assert world.spent == 1


async def test_a_request_past_the_allowance_leaves_the_lesson_untouched_and_sends_nothing():
    world = World(lessons_per_hour=ONE_LEFT)
    world.lessons.put(make_lesson(S.PENDING, id="first"))
    before = world.lessons.put(make_lesson(S.FAILED, id="second", generation_error="gave up"))
    await world.requests.request(USER, "first")

    with pytest.raises(QuotaExceeded) as refused:
        await world.requests.request(USER, "second")

    assert (refused.value.kind, refused.value.limit) == (Allowance.LESSONS, ONE_LEFT)
    assert 0 < refused.value.retry_after <= 3_600
    assert world.lessons.stored(USER, "second") == before
    assert world.queue.lesson_ids == ["first"]
    assert world.spent == ONE_LEFT


async def test_an_uncharged_request_spends_nothing_even_past_the_allowance():
    world = World(lessons_per_hour=ONE_LEFT)
    world.lessons.put(make_lesson(S.PENDING, id="first"))
    world.lessons.put(make_lesson(S.PENDING, id="second"))
    await world.requests.request(USER, "first")

    lesson = await world.requests.request(USER, "second", charge=False)

    assert lesson.status is S.QUEUED
    assert world.queue.lesson_ids == ["first", "second"]
    assert world.spent == ONE_LEFT


async def test_cancel_puts_a_queued_lesson_back_to_pending():
    world = World()
    world.lessons.put(make_lesson(S.PENDING))
    await world.requests.request(USER, "lesson-1")

    lesson = await world.requests.cancel(USER, "lesson-1")

    stored = world.lessons.stored(USER, "lesson-1")
    assert lesson.status is S.PENDING
    assert stored.status is S.PENDING
    assert stored.queued_at is None


async def test_cancelling_a_pending_lesson_leaves_it_as_it_is():
    world = World()
    before = world.lessons.put(make_lesson(S.PENDING))

    lesson = await world.requests.cancel(USER, "lesson-1")

    assert lesson.status is S.PENDING
    assert world.lessons.stored(USER, "lesson-1") == before
    assert world.lessons.saved == []


@pytest.mark.parametrize("status", [S.GENERATING, S.COMPLETED, S.FAILED])
async def test_nothing_to_cancel_once_written_or_being_written(status: GenerationStatus):
    world = World()
    before = world.lessons.put(make_lesson(status))

    with pytest.raises(IllegalTransition):
        await world.requests.cancel(USER, "lesson-1")

    assert world.lessons.stored(USER, "lesson-1") == before


async def test_a_message_arriving_after_a_cancel_is_ignored_by_the_writer():
    world = World()
    world.lessons.put(make_lesson(S.PENDING))
    await world.requests.request(USER, "lesson-1")
    [message] = world.queue.messages
    await world.requests.cancel(USER, "lesson-1")
    provider = FakeProvider("groq")

    written = await LessonWriter(world.lessons, chain_of(provider).chain, budget=25.0).handle(
        message
    )

    assert written is None
    assert provider.calls == 0
    assert world.lessons.stored(USER, "lesson-1").status is S.PENDING


async def test_cancelling_a_forced_rewrite_leaves_the_lesson_completed():
    world = World()
    world.lessons.put(make_lesson(S.COMPLETED))
    await world.requests.request(USER, "lesson-1", force=True)

    lesson = await world.requests.cancel(USER, "lesson-1")

    assert lesson.status is S.COMPLETED


async def test_a_cancelled_lesson_requested_again_is_written_once():
    world = World()
    world.lessons.put(make_lesson(S.PENDING))
    await world.requests.request(USER, "lesson-1")
    await world.requests.cancel(USER, "lesson-1")
    await world.requests.request(USER, "lesson-1")
    provider = FakeProvider("groq")
    writer = LessonWriter(world.lessons, chain_of(provider).chain, budget=25.0)

    for message in world.queue.messages:
        await writer.handle(message)

    assert world.queue.lesson_ids == ["lesson-1", "lesson-1"]
    assert provider.calls == 1
    assert world.lessons.stored(USER, "lesson-1").status is S.COMPLETED
    assert world.spent == 2


async def test_losing_the_race_to_another_request_spends_nothing():
    world = World()
    world.lessons.put(make_lesson(S.PENDING))
    world.lessons.change_before_next_save(lambda lesson: lesson.queue())

    lesson = await world.requests.request(USER, "lesson-1")

    assert lesson.status is S.QUEUED
    assert world.queue.messages == []
    assert world.spent == 0


async def test_a_request_the_queue_refuses_spends_nothing():
    world = World()
    before = world.lessons.put(make_lesson(S.PENDING))
    world.queue.refuse()

    with pytest.raises(StorageUnavailable):
        await world.requests.request(USER, "lesson-1")

    assert world.lessons.stored(USER, "lesson-1").status is before.status
    assert world.spent == 0
