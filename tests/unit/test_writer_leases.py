"""LessonWriter under leases: one live claim at a time, a dead worker's lesson taken over."""

from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta

import pytest

from domain.base import utcnow
from domain.errors import NoProviderSucceeded, ProviderUnavailable
from domain.lesson import GenerationStatus, Lease, Lesson, Progress, Stage
from domain.lesson_writer import GAVE_UP, WILL_RETRY, LessonWriter
from domain.ports import Draft, GenerationMessage, LlmTask, TextSink
from domain.research import DOCS, Digest
from domain.views import LessonView
from tests.unit.fakes import (
    USER,
    FakeLessonRepository,
    FakeProvider,
    FakeUtcClock,
    Reply,
    chain_of,
    held,
    make_lesson,
    trail,
)
from tests.unit.research_fakes import FakeResearcher, finding

S = GenerationStatus
MESSAGE = GenerationMessage(lesson_id="lesson-1", user_id=USER, requested_at=utcnow())
BUDGET = 25.0
LEASE = 180.0
# In the past, so the wall clock agrees with it about which leases have run out (see the xfail).
T0 = datetime(2024, 5, 10, 12, 0, tzinfo=UTC)
ME, OTHER = "worker-a", "worker-b"


def _at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def _writer(
    lessons: FakeLessonRepository,
    provider: FakeProvider,
    clock: FakeUtcClock,
    *,
    owner: str = ME,
    researcher: FakeResearcher | None = None,
) -> LessonWriter:
    return LessonWriter(
        lessons,
        chain_of(provider).chain,
        budget=BUDGET,
        researcher=researcher,
        owner=owner,
        lease_seconds=LEASE,
        clock=clock,
    )


def _generating_under(lease: Lease, **fields: object) -> Lesson:
    """A lesson some worker claimed once and got as far as writing."""
    defaults: dict[str, object] = {
        "deliveries": 1,
        "progress": Progress(stage=Stage.WRITING, percent=30),
    }
    return make_lesson(S.GENERATING, lease=lease, **(defaults | fields))


class CallHook(FakeProvider):
    """A provider during whose first call the world changes; it answers as scripted."""

    def __init__(self, during_first_call: Callable[[], None], lesson: Iterable[Reply]) -> None:
        super().__init__("groq", lesson=lesson)
        self._during_first_call = during_first_call

    async def generate(
        self, task: LlmTask, *, time_limit: float, on_text: TextSink | None = None
    ) -> Draft:
        if not self.tasks:
            self._during_first_call()
        return await super().generate(task, time_limit=time_limit)


def _taken_over_by(
    lessons: FakeLessonRepository, clock: FakeUtcClock, owner: str
) -> Callable[[], None]:
    """Our lease runs out mid-call and ``owner`` claims the lesson (a redelivered message)."""

    def take_over() -> None:
        clock.advance(LEASE + 1)
        lesson = lessons.stored(USER, "lesson-1")
        lesson.start(owner, clock() + timedelta(seconds=LEASE))
        lessons.put(lesson)

    return take_over


async def test_duplicate_message_for_a_lesson_generating_under_a_live_lease_makes_no_call():
    lessons, groq, clock = FakeLessonRepository(), FakeProvider("groq"), FakeUtcClock(T0)
    before = lessons.put(_generating_under(Lease(owner=OTHER, expires_at=_at(1))))

    result = await _writer(lessons, groq, clock).handle(MESSAGE)

    assert result is None
    assert groq.calls == 0
    assert lessons.stored(USER, "lesson-1") == before
    assert lessons.stored(USER, "lesson-1").version == before.version


@pytest.mark.parametrize("expired", [_at(0), _at(-1)], ids=["at-expiry", "a-second-after"])
async def test_lesson_of_a_dead_worker_is_taken_over_and_completed(expired: datetime):
    lessons, groq, clock = FakeLessonRepository(), FakeProvider("groq"), FakeUtcClock(T0)
    lessons.put(_generating_under(Lease(owner=OTHER, expires_at=expired)))

    result = await _writer(lessons, groq, clock).handle(MESSAGE)

    stored = lessons.stored(USER, "lesson-1")
    assert result is not None
    assert stored.status is S.COMPLETED
    assert stored.content is not None
    assert stored.deliveries == 2
    assert stored.lease is None
    assert groq.calls == 1
    claim = lessons.history[0]
    assert (claim.status, held(claim.lease)) == (S.GENERATING, (ME, _at(LEASE)))


async def test_progress_saves_renew_the_lease():
    lessons, clock = FakeLessonRepository(), FakeUtcClock(T0)
    lessons.put(make_lesson(S.QUEUED))
    research_takes_100_seconds = FakeResearcher(
        Digest([finding(DOCS, 1)], answered=[DOCS]), before=lambda: clock.advance(100)
    )
    writer = _writer(lessons, FakeProvider("groq"), clock, researcher=research_takes_100_seconds)

    await writer.handle(MESSAGE)

    assert [(saved.progress.stage, held(saved.lease)) for saved in lessons.history] == [
        (Stage.STARTING, (ME, _at(LEASE))),
        (Stage.RESEARCHING, (ME, _at(LEASE))),
        (Stage.WRITING, (ME, _at(100 + LEASE))),
        (Stage.DONE, None),
    ]


async def test_retryable_failure_releases_the_lesson_with_its_problem_and_re_raises():
    lessons, clock = FakeLessonRepository(), FakeUtcClock(T0)
    groq = FakeProvider("groq", lesson=[ProviderUnavailable("groq answered HTTP 503")] * 2)
    lessons.put(make_lesson(S.QUEUED))

    with pytest.raises(NoProviderSucceeded) as raised:
        await _writer(lessons, groq, clock).handle(MESSAGE)

    stored = lessons.stored(USER, "lesson-1")
    assert stored.status is S.QUEUED
    assert stored.lease is None
    assert stored.last_error == WILL_RETRY  # the learner's words; the details are the operator's
    assert stored.diagnosis == str(raised.value)
    assert stored.diagnosis.startswith("every provider failed")
    assert stored.generation_error is None
    assert stored.deliveries == 1
    assert trail(stored.attempts) == [("groq", "unavailable")] * 2


async def test_retryable_failure_leaves_a_lesson_another_worker_took_over_alone():
    lessons, clock = FakeLessonRepository(), FakeUtcClock(T0)
    lessons.put(make_lesson(S.QUEUED))
    groq = CallHook(
        _taken_over_by(lessons, clock, OTHER),
        lesson=[ProviderUnavailable("groq answered HTTP 503")] * 2,
    )

    with pytest.raises(NoProviderSucceeded):
        await _writer(lessons, groq, clock).handle(MESSAGE)

    stored = lessons.stored(USER, "lesson-1")
    assert stored.status is S.GENERATING
    assert stored.lease is not None
    assert stored.lease.owner == OTHER
    assert stored.deliveries == 2
    assert stored.last_error is None


async def test_retryable_failure_leaves_alone_a_claim_taken_over_by_the_same_process():
    lessons, clock = FakeLessonRepository(), FakeUtcClock(T0)
    lessons.put(make_lesson(S.QUEUED))
    groq = CallHook(
        _taken_over_by(lessons, clock, ME),
        lesson=[ProviderUnavailable("groq answered HTTP 503")] * 2,
    )

    with pytest.raises(NoProviderSucceeded):
        await _writer(lessons, groq, clock).handle(MESSAGE)

    stored = lessons.stored(USER, "lesson-1")
    assert stored.status is S.GENERATING
    assert stored.deliveries == 2


async def test_the_writers_clock_alone_decides_that_a_lease_ran_out():
    clock = FakeUtcClock(utcnow() + timedelta(days=1))
    lessons, groq = FakeLessonRepository(), FakeProvider("groq")
    lessons.put(_generating_under(Lease(owner=OTHER, expires_at=clock() - timedelta(seconds=1))))

    await _writer(lessons, groq, clock).handle(MESSAGE)

    assert lessons.stored(USER, "lesson-1").status is S.COMPLETED


@pytest.mark.parametrize(
    "lesson",
    [
        make_lesson(S.QUEUED, deliveries=5, last_error="groq answered HTTP 503"),
        _generating_under(
            Lease(owner=OTHER, expires_at=_at(-1)), deliveries=5, last_error="groq timed out"
        ),
    ],
    ids=["queued", "generating-expired"],
)
async def test_give_up_fails_the_lesson_and_keeps_what_ops_need(lesson: Lesson):
    lessons, groq, clock = FakeLessonRepository(), FakeProvider("groq"), FakeUtcClock(T0)
    lessons.put(lesson)

    result = await _writer(lessons, groq, clock).give_up(MESSAGE)

    stored = lessons.stored(USER, "lesson-1")
    assert result is not None
    assert stored.status is S.FAILED
    assert stored.generation_error == GAVE_UP
    assert stored.deliveries == 5
    assert stored.last_error == lesson.last_error
    assert stored.lease is None
    assert groq.calls == 0


async def test_poisoned_duplicate_does_not_cut_off_a_live_generation():
    lessons, groq, clock = FakeLessonRepository(), FakeProvider("groq"), FakeUtcClock(T0)
    lessons.put(_generating_under(Lease(owner=OTHER, expires_at=_at(60)), deliveries=2))

    await _writer(lessons, groq, clock).give_up(MESSAGE)

    stored = lessons.stored(USER, "lesson-1")
    assert stored.status is S.GENERATING
    assert held(stored.lease) == (OTHER, _at(60))
    assert stored.generation_error is None


async def test_the_learner_never_sees_an_exceptions_text_but_the_operator_does():
    lessons = FakeLessonRepository()
    lessons.put(make_lesson(S.QUEUED))
    hostile = "groq answered HTTP 500: <html>internal trace at 10.1.2.3:8443</html>"
    failing = FakeProvider("groq", lesson=[ProviderUnavailable(hostile)] * 2)
    writer = LessonWriter(lessons, chain_of(failing).chain, budget=30.0)

    with pytest.raises(NoProviderSucceeded):
        await writer.handle(MESSAGE)

    stored = lessons.stored(USER, "lesson-1")
    shown = LessonView.of(stored).model_dump_json(by_alias=True)
    assert "10.1.2.3" not in shown
    assert "groq answered" not in shown
    assert "diagnosis" not in shown
    assert stored.diagnosis is not None
    assert "groq unavailable" in stored.diagnosis
