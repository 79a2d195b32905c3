"""Sweeper: lessons stuck by a dead worker or a lost message are sent again, a bounded number of
times, then failed; everything else is left alone."""

from datetime import datetime, timedelta

import pytest

from domain.base import utcnow
from domain.errors import StorageUnavailable
from domain.lesson import GenerationStatus, Lease, Lesson, Stage
from domain.sweeper import STUCK, Sweeper
from tests.unit.fakes import USER, FakeLessonRepository, FakeQueue, held, make_lesson

S = GenerationStatus
QUEUED_FOR = 600.0
MAX_REQUEUES = 3


class OverFetchingLessonRepository(FakeLessonRepository):
    """A store whose query for stuck lessons returns every lesson (a stale or broad index)."""

    async def find_stuck(self, now: datetime, queued_before: datetime, limit: int) -> list[Lesson]:
        return self.all()[:limit]


@pytest.fixture
def now() -> datetime:
    # Near the wall clock: a repair stamps ``queued_at`` with it, and later passes compare.
    return utcnow()


@pytest.fixture
def sweeper(lessons: FakeLessonRepository, queue: FakeQueue) -> Sweeper:
    return Sweeper(lessons, queue, queued_for=QUEUED_FOR, max_requeues=MAX_REQUEUES)


def _seconds(moment: datetime, seconds: float) -> datetime:
    return moment + timedelta(seconds=seconds)


def _dead_worker(now: datetime, lesson_id: str = "lesson-1", **fields: object) -> Lesson:
    lease = Lease(owner="worker-b", expires_at=_seconds(now, -1))
    return make_lesson(S.GENERATING, id=lesson_id, lease=lease, deliveries=1, **fields)


def _sent(queue: FakeQueue) -> list[tuple[str, str]]:
    return [(message.lesson_id, message.user_id) for message in queue.messages]


async def test_lesson_generating_past_its_lease_is_requeued_and_sent_again(
    sweeper: Sweeper, lessons: FakeLessonRepository, queue: FakeQueue, now: datetime
):
    lessons.put(_dead_worker(now))

    report = await sweeper.sweep(now)

    stored = lessons.stored(USER, "lesson-1")
    assert report.requeued == ["lesson-1"]
    assert report.failed == []
    assert stored.status is S.QUEUED
    assert stored.requeues == 1
    assert stored.lease is None
    assert _sent(queue) == [("lesson-1", USER)]


async def test_lesson_queued_longer_than_queued_for_is_requeued(
    sweeper: Sweeper, lessons: FakeLessonRepository, queue: FakeQueue, now: datetime
):
    lessons.put(make_lesson(S.QUEUED, queued_at=_seconds(now, -QUEUED_FOR - 1)))

    report = await sweeper.sweep(now)

    stored = lessons.stored(USER, "lesson-1")
    assert report.requeued == ["lesson-1"]
    assert (stored.status, stored.requeues) == (S.QUEUED, 1)
    assert stored.queued_at is not None
    assert stored.queued_at > _seconds(now, -QUEUED_FOR)
    assert _sent(queue) == [("lesson-1", USER)]


@pytest.mark.parametrize("waited", [QUEUED_FOR - 1, QUEUED_FOR], ids=["recently", "just-now"])
async def test_lesson_queued_no_longer_than_queued_for_is_left_alone(
    sweeper: Sweeper,
    lessons: FakeLessonRepository,
    queue: FakeQueue,
    now: datetime,
    waited: float,
):
    before = lessons.put(make_lesson(S.QUEUED, queued_at=_seconds(now, -waited)))

    report = await sweeper.sweep(now)

    assert (report.requeued, report.failed) == ([], [])
    assert lessons.stored(USER, "lesson-1").version == before.version
    assert queue.messages == []


async def test_lesson_that_keeps_getting_stuck_is_failed_after_max_requeues_without_a_message(
    sweeper: Sweeper, lessons: FakeLessonRepository, queue: FakeQueue, now: datetime
):
    lessons.put(_dead_worker(now))
    passes = [_seconds(now, n * (QUEUED_FOR + 1)) for n in range(MAX_REQUEUES + 1)]

    reports = [await sweeper.sweep(moment) for moment in passes]

    stored = lessons.stored(USER, "lesson-1")
    assert [r.requeued for r in reports] == [["lesson-1"]] * MAX_REQUEUES + [[]]
    assert reports[-1].failed == ["lesson-1"]
    assert stored.status is S.FAILED
    assert stored.generation_error == STUCK
    assert stored.requeues == MAX_REQUEUES
    assert _sent(queue) == [("lesson-1", USER)] * MAX_REQUEUES


async def test_concurrent_change_skips_the_lesson_and_the_pass_goes_on(
    sweeper: Sweeper, lessons: FakeLessonRepository, queue: FakeQueue, now: datetime
):
    lessons.put(_dead_worker(now, "lesson-1"))
    lessons.put(_dead_worker(now, "lesson-2"))
    renewed = _seconds(now, 180)
    # The worker was only slow: it renews its lease just before the sweeper's write lands.
    lessons.change_before_next_save(
        lambda lesson: lesson.report(Stage.WRITING, 40, lease_until=renewed)
    )

    report = await sweeper.sweep(now)

    first = lessons.stored(USER, "lesson-1")
    assert report.requeued == ["lesson-2"]
    assert (first.status, first.requeues) == (S.GENERATING, 0)
    assert held(first.lease) == ("worker-b", renewed)
    # The message goes out before the save, so the lost race leaves a duplicate message for
    # lesson-1: harmless, since its live lease makes the claim ignore it.
    assert _sent(queue) == [("lesson-1", USER), ("lesson-2", USER)]


async def test_queue_that_refuses_leaves_the_lesson_in_flight_for_a_later_pass(
    sweeper: Sweeper, lessons: FakeLessonRepository, queue: FakeQueue, now: datetime
):
    lessons.put(make_lesson(S.QUEUED, queued_at=_seconds(now, -QUEUED_FOR - 1)))
    queue.refuse(StorageUnavailable("the queue is throttling"))

    refused = await sweeper.sweep(now)

    assert (refused.requeued, refused.failed) == ([], [])
    assert lessons.stored(USER, "lesson-1").status is S.QUEUED

    queue.accept()
    later = await sweeper.sweep(_seconds(now, QUEUED_FOR + 1))

    assert later.requeued == ["lesson-1"]
    assert _sent(queue) == [("lesson-1", USER)]


async def test_a_pass_repairs_at_most_its_batch(lessons: FakeLessonRepository, now: datetime):
    queue = FakeQueue()
    for n in range(3):
        lessons.put(_dead_worker(now, f"lesson-{n}"))
    sweeper = Sweeper(lessons, queue, queued_for=QUEUED_FOR, max_requeues=MAX_REQUEUES, batch=2)

    report = await sweeper.sweep(now)

    assert report.requeued == ["lesson-0", "lesson-1"]
    assert queue.lesson_ids == ["lesson-0", "lesson-1"]


async def test_lessons_that_are_not_stuck_are_never_touched_even_if_the_store_returns_them(
    now: datetime,
):
    lessons, queue = OverFetchingLessonRepository(), FakeQueue()
    long_ago = _seconds(now, -30 * 86_400)
    expired = Lease(owner="worker-b", expires_at=long_ago)
    at_rest = [
        make_lesson(status, id=str(status), updated_at=long_ago, queued_at=long_ago, lease=expired)
        for status in (S.COMPLETED, S.PENDING, S.FAILED)
    ]
    live = Lease(owner="worker-b", expires_at=_seconds(now, 60))
    busy = make_lesson(S.GENERATING, id="busy", lease=live, queued_at=long_ago)
    waiting = make_lesson(S.QUEUED, id="waiting", queued_at=_seconds(now, -1))
    before = {lesson.id: lessons.put(lesson) for lesson in [*at_rest, busy, waiting]}
    sweeper = Sweeper(lessons, queue, queued_for=QUEUED_FOR, max_requeues=0)

    report = await sweeper.sweep(now)

    assert (report.requeued, report.failed) == ([], [])
    assert {lesson.id: lesson for lesson in lessons.all()} == before
    assert lessons.saved == []
    assert queue.messages == []
