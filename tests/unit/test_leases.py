"""Leases on the lesson: a claim holds until it expires, is renewed by progress, ends with it."""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from domain.content import LessonContent
from domain.errors import IllegalTransition
from domain.lesson import GenerationStatus, Lease, Lesson, Progress, Stage
from tests.unit.fakes import held, make_lesson

S = GenerationStatus
T0 = datetime(2024, 5, 10, 12, 0, tzinfo=UTC)
TICK = timedelta(microseconds=1)
# ``start`` judges a running claim by the wall clock: these hold whenever the tests run.
LIVE = datetime(2999, 1, 1, tzinfo=UTC)
EXPIRED = datetime(2000, 1, 1, tzinfo=UTC)


def _generating(expires_at: datetime, owner: str = "worker-a", **fields: object) -> Lesson:
    return make_lesson(S.GENERATING, lease=Lease(owner=owner, expires_at=expires_at), **fields)


def test_claim_sets_owner_and_expiry_and_counts_a_delivery():
    lesson = make_lesson(S.QUEUED)

    lesson.start("worker-a", T0 + timedelta(seconds=180))

    assert lesson.status is S.GENERATING
    assert held(lesson.lease) == ("worker-a", T0 + timedelta(seconds=180))
    assert lesson.deliveries == 1
    assert lesson.progress == Progress(stage=Stage.STARTING, percent=5)


def test_live_lease_refuses_another_claim():
    lesson = make_lesson(S.QUEUED)
    lesson.start("worker-a", LIVE)
    before = lesson.model_copy(deep=True)

    with pytest.raises(IllegalTransition):
        lesson.start("worker-b", LIVE)

    assert lesson == before
    assert held(lesson.lease) == ("worker-a", LIVE)
    assert lesson.deliveries == 1


def test_expired_lease_can_be_taken_over():
    lesson = make_lesson(S.QUEUED)
    lesson.start("worker-a", EXPIRED)
    lesson.report(Stage.WRITING, 30)

    lesson.start("worker-b", LIVE)

    assert lesson.status is S.GENERATING
    assert held(lesson.lease) == ("worker-b", LIVE)
    assert lesson.deliveries == 2
    assert lesson.progress == Progress(stage=Stage.STARTING, percent=5)


def test_generating_lesson_without_a_lease_can_be_claimed():
    # Written before leases existed: nobody can be holding it.
    lesson = make_lesson(S.GENERATING)

    lesson.start("worker-a", LIVE)

    assert held(lesson.lease) == ("worker-a", LIVE)
    assert lesson.deliveries == 1


def test_report_renews_the_lease_for_the_same_owner():
    lesson = make_lesson(S.QUEUED)
    lesson.start("worker-a", T0 + timedelta(seconds=180))

    lesson.report(Stage.WRITING, 30, lease_until=T0 + timedelta(seconds=300))

    assert held(lesson.lease) == ("worker-a", T0 + timedelta(seconds=300))
    assert lesson.progress == Progress(stage=Stage.WRITING, percent=30)


def test_report_without_a_new_expiry_keeps_the_lease():
    lesson = make_lesson(S.QUEUED)
    lesson.start("worker-a", T0)

    lesson.report(Stage.RESEARCHING, 10)

    assert held(lesson.lease) == ("worker-a", T0)


CONTENT = LessonContent.model_validate(
    {
        "summary": "s",
        "sections": [{"heading": "h", "body": "b"}],
        "exercises": [{"prompt": "p", "hint": "h", "solution": "s"}],
        "quiz": [{"question": "q", "options": ["a", "b"], "answerIndex": 0, "explanation": "e"}],
        "keyTakeaways": ["k"],
        "diagrams": [{"title": "d", "mermaid": "flowchart TD\n  A --> B"}],
    }
)
ENDINGS: dict[str, Callable[[Lesson], None]] = {
    "complete": lambda lesson: lesson.complete(CONTENT, provider="p", model="m", usage=None),
    "fail": lambda lesson: lesson.fail("The provider gave up."),
    "release": lambda lesson: lesson.release(problem="groq answered 503"),
    "requeue": lambda lesson: lesson.requeue(),
}


@pytest.mark.parametrize("ending", ENDINGS)
def test_the_end_of_a_claim_clears_its_lease_and_keeps_the_delivery_count(ending: str):
    lesson = make_lesson(S.QUEUED)
    lesson.start("worker-a", LIVE)

    ENDINGS[ending](lesson)

    assert lesson.lease is None
    assert lesson.deliveries == 1


def test_release_records_the_problem_and_when_the_lesson_was_queued_again():
    lesson = make_lesson(S.QUEUED)
    lesson.start("worker-a", LIVE)

    lesson.release(problem="groq answered 503")

    assert lesson.status is S.QUEUED
    assert lesson.last_error == "groq answered 503"
    assert lesson.generation_error is None
    assert lesson.queued_at == lesson.updated_at


@pytest.mark.parametrize(
    ("now", "claimable"),
    [(T0 - timedelta(seconds=1), False), (T0 - TICK, False), (T0, True), (T0 + TICK, True)],
    ids=["a-second-before", "just-before", "at-expiry", "just-after"],
)
def test_generating_lesson_is_claimable_from_the_moment_its_lease_expires(
    now: datetime, claimable: bool
):
    lesson = _generating(T0)

    assert lesson.claimable(now) is claimable
    assert lesson.lease_expired(now) is claimable


def test_queued_lesson_is_claimable_at_any_time():
    lesson = make_lesson(S.QUEUED, queued_at=T0)

    assert lesson.claimable(T0 - timedelta(days=1))
    assert lesson.claimable(T0 + timedelta(days=1))


@pytest.mark.parametrize("status", [S.PENDING, S.COMPLETED, S.FAILED])
def test_lesson_at_rest_is_never_claimable(status: GenerationStatus):
    lesson = make_lesson(status, lease=Lease(owner="worker-a", expires_at=EXPIRED))

    assert not lesson.claimable(T0)


@pytest.mark.parametrize(
    ("now", "stuck"),
    [(T0 - TICK, False), (T0, True), (T0 + timedelta(hours=1), True)],
    ids=["just-before", "at-expiry", "an-hour-after"],
)
def test_generating_lesson_is_stuck_once_its_lease_expired(now: datetime, stuck: bool):
    lesson = _generating(T0)

    # However recently it was queued: only the lease counts for a generating lesson.
    assert lesson.stuck(now, queued_before=T0 - timedelta(days=1)) is stuck


@pytest.mark.parametrize(
    ("queued_before", "stuck"),
    [(T0 - TICK, False), (T0, False), (T0 + TICK, True)],
    ids=["queued-after-the-cutoff", "queued-at-the-cutoff", "queued-before-the-cutoff"],
)
def test_queued_lesson_is_stuck_when_queued_before_the_cutoff(queued_before: datetime, stuck: bool):
    lesson = make_lesson(S.QUEUED, queued_at=T0, updated_at=T0 + timedelta(hours=1))

    assert lesson.stuck(T0 + timedelta(days=1), queued_before) is stuck


def test_queued_lesson_without_a_queued_time_is_judged_by_its_last_update():
    lesson = make_lesson(S.QUEUED, queued_at=None, updated_at=T0)

    assert not lesson.stuck(T0, queued_before=T0)
    assert lesson.stuck(T0, queued_before=T0 + TICK)


@pytest.mark.parametrize("status", [S.PENDING, S.COMPLETED, S.FAILED])
def test_lesson_at_rest_is_never_stuck(status: GenerationStatus):
    lesson = make_lesson(
        status,
        queued_at=EXPIRED,
        updated_at=EXPIRED,
        lease=Lease(owner="worker-a", expires_at=EXPIRED),
    )

    assert not lesson.stuck(T0, queued_before=T0)
