"""Heartbeats and the final save: a live worker keeps its lesson, a lost claim writes nothing,
and a storage blip at the end costs no second model call.

These run on the real clock with leases of a fraction of a second, so "three leases" pass for real
while a provider is busy; nothing asserts on how long anything took.
"""

import asyncio
from collections import deque
from datetime import timedelta

import pytest

from domain.base import utcnow
from domain.claim import Claim
from domain.errors import NoProviderSucceeded, ProviderUnavailable, StorageUnavailable
from domain.lesson import GenerationStatus, Lesson
from domain.lesson_writer import LessonWriter
from domain.ports import Draft, GenerationMessage, LlmTask, TextSink
from tests.unit.fakes import USER, FakeLessonRepository, FakeProvider, chain_of, make_lesson

S = GenerationStatus
LEASE = 0.3  # seconds: a heartbeat every 0.1 s
MESSAGE = GenerationMessage(lesson_id="lesson-1", user_id=USER, requested_at=utcnow())


class SlowProvider(FakeProvider):
    """Answers as ``FakeProvider`` after really waiting ``seconds``; notes a cancelled call."""

    def __init__(self, name: str, seconds: float) -> None:
        super().__init__(name)
        self.seconds = seconds
        self.cancelled = 0

    async def generate(
        self, task: LlmTask, *, time_limit: float, on_text: TextSink | None = None
    ) -> Draft:
        try:
            await asyncio.sleep(self.seconds)
        except asyncio.CancelledError:
            self.cancelled += 1
            raise
        return await super().generate(task, time_limit=time_limit)


class FlakyLessons(FakeLessonRepository):
    """Lessons whose next final saves or lease renewals fail as scripted.

    ``lost_answers`` saves are stored but answer with an error, as when a connection drops after
    the request reached the service.
    """

    def __init__(self) -> None:
        super().__init__()
        self.final_failures: deque[Exception] = deque()
        self.renewal_failures: deque[Exception | None] = deque()  # None: that one succeeds
        self.lost_answers = 0

    async def save(self, lesson: Lesson) -> None:
        if lesson.status is not S.GENERATING and self.final_failures:
            raise self.final_failures.popleft()
        await super().save(lesson)
        if lesson.status is not S.GENERATING and self.lost_answers:
            self.lost_answers -= 1
            raise StorageUnavailable("Cosmos DB is unreachable: ServiceResponseError")

    async def report_progress(self, lesson: Lesson) -> None:
        failure = self.renewal_failures.popleft() if self.renewal_failures else None
        if failure is not None:
            raise failure
        await super().report_progress(lesson)


def _queued(lessons: FakeLessonRepository) -> None:
    lesson = make_lesson()
    lesson.queue()
    lessons.put(lesson)


def _writer(
    lessons: FakeLessonRepository, *providers: FakeProvider, time_limit: float = 600.0
) -> LessonWriter:
    chain = chain_of(*providers).chain
    return LessonWriter(lessons, chain, budget=30, lease_seconds=LEASE, time_limit=time_limit)


class Sweeper:
    """Looks at the stored lesson as the sweeper would, all the time the work runs."""

    def __init__(self, lessons: FakeLessonRepository) -> None:
        self.lessons = lessons
        self.saw_stuck = False
        self.looks = 0

    async def watch(self) -> None:
        while True:
            stored = self.lessons.stored(USER, "lesson-1")
            now = utcnow()
            if stored.stuck(now, queued_before=now - timedelta(hours=1)):
                self.saw_stuck = True
            self.looks += 1
            await asyncio.sleep(0.01)


async def _with_sweeper(
    lessons: FakeLessonRepository, writer: LessonWriter
) -> tuple[Lesson | None, Sweeper]:
    sweeper = Sweeper(lessons)
    watching = asyncio.create_task(sweeper.watch())
    try:
        result = await writer.handle(MESSAGE)
    finally:
        watching.cancel()
    return result, sweeper


async def test_a_provider_slower_than_three_leases_never_lets_the_lease_run_out():
    lessons, slow = FakeLessonRepository(), SlowProvider("groq", seconds=4 * LEASE)
    _queued(lessons)

    result, sweeper = await _with_sweeper(lessons, _writer(lessons, slow))

    assert result is not None
    assert result.status is S.COMPLETED
    assert slow.calls == 1
    assert sweeper.looks > 20
    assert not sweeper.saw_stuck
    assert lessons.stored(USER, "lesson-1").status is S.COMPLETED
    renewals = [stage for _, stage in lessons.patched]
    assert len(renewals) >= 3  # the writing stage, then the beats


async def test_a_worker_whose_claim_is_taken_stops_without_calling_another_provider():
    lessons = FakeLessonRepository()
    slow, second = SlowProvider("groq", seconds=10 * LEASE), FakeProvider("gemini")
    _queued(lessons)
    writer = _writer(lessons, slow, second)

    async def take_over() -> None:
        await asyncio.sleep(LEASE / 2)
        other = lessons.stored(USER, "lesson-1")
        other.lease = other.lease.model_copy(update={"owner": "worker-b"}) if other.lease else None
        lessons.put(other)  # a new version: the next heartbeat's condition fails

    taking = asyncio.create_task(take_over())
    result = await writer.handle(MESSAGE)
    await taking

    assert result is None
    assert slow.cancelled == 1
    assert second.calls == 0
    stored = lessons.stored(USER, "lesson-1")
    assert stored.status is S.GENERATING
    assert stored.lease is not None
    assert stored.lease.owner == "worker-b"
    assert stored.content is None


async def test_a_lesson_removed_while_being_written_stays_removed():
    lessons, slow = FakeLessonRepository(), SlowProvider("groq", seconds=10 * LEASE)
    _queued(lessons)

    async def remove() -> None:
        await asyncio.sleep(LEASE / 2)
        lessons._lessons.pop((USER, "lesson-1"))

    removing = asyncio.create_task(remove())
    result = await _writer(lessons, slow).handle(MESSAGE)
    await removing

    assert result is None
    assert slow.cancelled == 1
    assert lessons.all() == []


async def test_a_renewal_lost_to_a_blip_is_retried_at_the_next_beat():
    lessons, slow = FlakyLessons(), SlowProvider("groq", seconds=3 * LEASE)
    _queued(lessons)
    writer = _writer(lessons, slow)
    # The writing stage is stored; the first heartbeat after it is throttled.
    lessons.renewal_failures.extend([None, StorageUnavailable("Cosmos DB answered 429")])

    result = await writer.handle(MESSAGE)

    assert result is not None
    assert result.status is S.COMPLETED
    assert slow.calls == 1
    assert not lessons.renewal_failures  # the failing renewal happened, and was survived


async def test_throttled_final_saves_are_retried_without_a_second_model_call():
    lessons, groq = FlakyLessons(), FakeProvider("groq")
    _queued(lessons)
    lessons.final_failures.extend(
        [
            StorageUnavailable("Cosmos DB answered 429", retry_after=0.01),
            StorageUnavailable("Cosmos DB answered 429", retry_after=0.01),
        ]
    )

    result = await _writer(lessons, groq).handle(MESSAGE)

    assert result is not None
    assert result.status is S.COMPLETED
    assert groq.calls == 1
    assert not lessons.final_failures
    assert lessons.stored(USER, "lesson-1").status is S.COMPLETED


async def test_a_save_stored_but_unanswered_counts_as_done():
    lessons, groq = FlakyLessons(), FakeProvider("groq")
    _queued(lessons)
    lessons.lost_answers = 1

    result = await _writer(lessons, groq).handle(MESSAGE)

    assert result is not None
    assert result.status is S.COMPLETED
    assert groq.calls == 1
    assert lessons.stored(USER, "lesson-1").content == result.content


async def test_a_save_that_outlasts_the_time_limit_hands_the_lesson_back_whole():
    lessons, groq = FlakyLessons(), FakeProvider("groq")
    _queued(lessons)
    lessons.final_failures.extend(
        [StorageUnavailable("Cosmos DB is unreachable", retry_after=60.0)]
    )

    with pytest.raises(StorageUnavailable):
        await _writer(lessons, groq, time_limit=15.0).handle(MESSAGE)

    stored = lessons.stored(USER, "lesson-1")
    assert stored.status is S.QUEUED
    assert stored.content is None
    assert groq.calls == 1

    again = await _writer(lessons, groq).handle(MESSAGE)  # the next delivery

    assert again is not None
    assert again.status is S.COMPLETED
    assert groq.calls == 2


async def test_no_heartbeat_is_written_after_the_final_save():
    lessons = FakeLessonRepository()
    lesson = make_lesson()
    lesson.queue()
    lesson.start("worker-a", utcnow() + timedelta(seconds=LEASE))
    lessons.put(lesson)
    claim = Claim(
        lessons,
        lessons.stored(USER, "lesson-1"),
        lease=timedelta(seconds=LEASE),
        clock=utcnow,
        monotonic=lambda: 0.0,
    )
    claim.lesson.fail("no")
    await claim.finish(until=10.0)
    await claim.renew()

    assert lessons.stored(USER, "lesson-1").status is S.FAILED
    assert lessons.stored(USER, "lesson-1").lease is None
    assert lessons.patched == []


async def test_a_final_failure_is_stored_through_the_claim():
    lessons = FlakyLessons()
    _queued(lessons)
    broken = FakeProvider("groq", lesson=["not json", "still not json"])
    lessons.final_failures.append(StorageUnavailable("Cosmos DB answered 503", retry_after=0.01))

    result = await LessonWriter(
        lessons, chain_of(broken).chain, budget=30, lease_seconds=LEASE
    ).handle(MESSAGE)

    assert result is not None
    assert result.status is S.FAILED
    assert lessons.stored(USER, "lesson-1").status is S.FAILED


async def test_a_chain_that_cannot_answer_now_still_releases_the_lesson():
    lessons = FakeLessonRepository()
    _queued(lessons)
    down = FakeProvider("groq", lesson=[ProviderUnavailable("down")] * 2)

    with pytest.raises(NoProviderSucceeded):
        await _writer(lessons, down).handle(MESSAGE)

    assert lessons.stored(USER, "lesson-1").status is S.QUEUED
