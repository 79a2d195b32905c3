"""The lesson status state machine: the transitions drawn in domain/lesson.py, and no others."""

from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from domain.content import LessonContent
from domain.errors import IllegalTransition
from domain.lesson import (
    GenerationStatus,
    Lease,
    Lesson,
    Progress,
    ProviderAttempt,
    Stage,
    TokenUsage,
)
from tests.unit.fakes import make_lesson, offline_lesson_data

S = GenerationStatus


async def _content() -> LessonContent:
    return LessonContent.model_validate(await offline_lesson_data())


def _complete(lesson: Lesson) -> None:
    content = LessonContent.model_validate(
        {
            "summary": "s",
            "sections": [{"heading": "h", "body": "b"}],
            "exercises": [{"prompt": "p", "hint": "h", "solution": "s"}],
            "quiz": [
                {"question": "q", "options": ["a", "b"], "answerIndex": 0, "explanation": "e"}
            ],
            "keyTakeaways": ["k"],
            "diagrams": [{"title": "d", "mermaid": "flowchart TD\n  A --> B"}],
        }
    )
    lesson.complete(content, provider="offline", model="m", usage=None)


# Leases decided against the wall clock, whenever the test runs.
LIVE = datetime(2999, 1, 1, tzinfo=UTC)
EXPIRED = datetime(2000, 1, 1, tzinfo=UTC)

# The states a lesson can be in; a generating lesson's claim is either alive or run out.
STATES: dict[str, Callable[[], Lesson]] = {
    "pending": lambda: make_lesson(S.PENDING),
    "queued": lambda: make_lesson(S.QUEUED),
    "generating-live": lambda: make_lesson(S.GENERATING, lease=Lease(owner="a", expires_at=LIVE)),
    "generating-expired": lambda: make_lesson(
        S.GENERATING, lease=Lease(owner="a", expires_at=EXPIRED)
    ),
    "completed": lambda: make_lesson(S.COMPLETED),
    "failed": lambda: make_lesson(S.FAILED),
}

# Each method, and the status it moves a lesson to when it is allowed to.
METHODS: dict[str, tuple[Callable[[Lesson], None], GenerationStatus]] = {
    "queue": (lambda lesson: lesson.queue(), S.QUEUED),
    "force_queue": (lambda lesson: lesson.queue(force=True), S.QUEUED),
    "unqueue_to_pending": (lambda lesson: lesson.unqueue(S.PENDING), S.PENDING),
    "unqueue_to_failed": (lambda lesson: lesson.unqueue(S.FAILED), S.FAILED),
    "unqueue_to_completed": (lambda lesson: lesson.unqueue(S.COMPLETED), S.COMPLETED),
    "start": (lambda lesson: lesson.start("b", LIVE), S.GENERATING),
    "report": (lambda lesson: lesson.report(Stage.WRITING, 20), S.GENERATING),
    "release": (lambda lesson: lesson.release(), S.QUEUED),
    "requeue": (lambda lesson: lesson.requeue(), S.QUEUED),
    "complete": (_complete, S.COMPLETED),
    "fail": (lambda lesson: lesson.fail("The provider gave up."), S.FAILED),
}

# The table in domain/lesson.py, row by row.
ALLOWED = {
    ("pending", "queue"),
    ("failed", "queue"),
    ("pending", "force_queue"),
    ("failed", "force_queue"),
    ("completed", "force_queue"),
    ("queued", "unqueue_to_pending"),
    ("queued", "unqueue_to_failed"),
    ("queued", "unqueue_to_completed"),
    ("queued", "start"),
    ("generating-expired", "start"),
    ("generating-live", "report"),
    ("generating-expired", "report"),
    ("generating-live", "release"),
    ("generating-expired", "release"),
    ("queued", "requeue"),
    ("generating-live", "requeue"),
    ("generating-expired", "requeue"),
    ("generating-live", "complete"),
    ("generating-expired", "complete"),
    ("queued", "fail"),
    ("generating-live", "fail"),
    ("generating-expired", "fail"),
}


def _refused_cases() -> list[object]:
    return [
        pytest.param(state, method, id=f"{state}-{method}")
        for state in STATES
        for method in METHODS
        if (state, method) not in ALLOWED
    ]


def test_the_table_names_only_known_states_and_methods():
    assert {state for state, _ in ALLOWED} == set(STATES)
    assert {method for _, method in ALLOWED} == set(METHODS)


@pytest.mark.parametrize(
    ("state", "method"), sorted(ALLOWED), ids=[f"{s}-{m}" for s, m in sorted(ALLOWED)]
)
def test_allowed_transition_moves_the_lesson(state: str, method: str):
    lesson = STATES[state]()
    call, target = METHODS[method]

    call(lesson)

    assert lesson.status is target


@pytest.mark.parametrize(("state", "method"), _refused_cases())
def test_any_other_transition_is_refused(state: str, method: str):
    lesson = STATES[state]()
    before = lesson.model_copy(deep=True)
    call, _ = METHODS[method]

    with pytest.raises(IllegalTransition):
        call(lesson)

    assert lesson == before


def test_illegal_transition_names_both_statuses():
    lesson = make_lesson(S.COMPLETED)

    with pytest.raises(IllegalTransition) as raised:
        lesson.queue()

    assert raised.value.current == S.COMPLETED
    assert raised.value.target == S.QUEUED
    assert "'completed'" in str(raised.value)
    assert "'queued'" in str(raised.value)


def test_queue_clears_the_previous_generation_error():
    lesson = make_lesson(S.FAILED, generation_error="The provider gave up.")

    lesson.queue()

    assert lesson.generation_error is None
    assert lesson.progress == Progress(stage=Stage.QUEUED, percent=0)


async def test_complete_stores_content_provider_model_and_time():
    lesson = make_lesson(S.GENERATING, generation_error="stale")
    content = await _content()
    usage = TokenUsage(prompt_tokens=12, completion_tokens=340)

    attempts = [
        ProviderAttempt(provider="groq", outcome="rate_limited", ms=120),
        ProviderAttempt(provider="offline", outcome="ok", ms=2),
    ]

    lesson.complete(
        content, provider="offline", model="offline-template-v1", usage=usage, attempts=attempts
    )

    assert lesson.status is S.COMPLETED
    assert lesson.attempts == attempts
    assert lesson.content == content
    assert lesson.provider == "offline"
    assert lesson.model == "offline-template-v1"
    assert lesson.usage == usage
    assert lesson.generated_at is not None
    assert lesson.generated_at == lesson.updated_at
    assert lesson.generation_error is None
    assert lesson.progress == Progress(stage=Stage.DONE, percent=100)


def test_fail_keeps_the_readable_reason_the_attempts_and_the_progress_reached():
    lesson = make_lesson(S.GENERATING)
    lesson.report(Stage.WRITING, 20)
    attempts = [ProviderAttempt(provider="groq", outcome="invalid", ms=900)] * 2

    lesson.fail("No writing service produced a valid answer; please try again.", attempts)

    assert lesson.status is S.FAILED
    assert lesson.generation_error == (
        "No writing service produced a valid answer; please try again."
    )
    assert lesson.attempts == attempts
    assert lesson.progress == Progress(stage=Stage.FAILED, percent=20)


def test_start_shows_the_starting_stage():
    lesson = make_lesson(S.QUEUED)

    lesson.start("a", LIVE)

    assert lesson.progress == Progress(stage=Stage.STARTING, percent=5)


def test_report_records_progress_while_generating():
    lesson = make_lesson(S.GENERATING)

    lesson.report(Stage.WRITING, 20)

    assert lesson.status is S.GENERATING
    assert lesson.progress == Progress(stage=Stage.WRITING, percent=20)


@pytest.mark.parametrize("status", [s for s in S if s is not S.GENERATING])
def test_report_is_refused_unless_generating(status: GenerationStatus):
    lesson = make_lesson(status)

    with pytest.raises(IllegalTransition):
        lesson.report(Stage.WRITING, 20)

    assert lesson.progress == Progress()


@pytest.mark.parametrize("previous", [S.PENDING, S.FAILED])
def test_unqueue_goes_back_to_the_previous_status_with_an_error(previous: GenerationStatus):
    lesson = make_lesson(S.QUEUED)

    lesson.unqueue(previous)

    assert lesson.status is previous
    assert lesson.generation_error == "The lesson could not be queued; please try again."
    assert lesson.progress == Progress()


@pytest.mark.parametrize("previous", [S.QUEUED, S.GENERATING])
def test_unqueue_never_goes_back_to_a_status_queue_cannot_start_from(
    previous: GenerationStatus,
):
    lesson = make_lesson(S.QUEUED)

    with pytest.raises(IllegalTransition):
        lesson.unqueue(previous)

    assert lesson.status is S.QUEUED
    assert lesson.generation_error is None


def test_release_hands_a_claimed_lesson_back_to_the_queue():
    lesson = make_lesson(S.GENERATING)
    lesson.report(Stage.WRITING, 20)

    lesson.release()

    assert lesson.status is S.QUEUED
    assert lesson.progress == Progress(stage=Stage.QUEUED, percent=0)


def test_unqueue_back_to_completed_shows_it_done_and_keeps_the_problem_out_of_its_error():
    lesson = make_lesson(S.COMPLETED)
    lesson.queue(force=True)

    lesson.unqueue(S.COMPLETED)

    assert lesson.status is S.COMPLETED
    assert lesson.progress == Progress(stage=Stage.DONE, percent=100)
    assert lesson.generation_error is None
    assert lesson.last_error == "The lesson could not be queued; please try again."
    assert lesson.queued_at is None


def test_requeue_of_a_generating_lesson_drops_its_lease_and_counts_the_repair():
    lesson = make_lesson(S.GENERATING, lease=Lease(owner="a", expires_at=EXPIRED), requeues=1)

    lesson.requeue()

    assert lesson.status is S.QUEUED
    assert lesson.progress == Progress(stage=Stage.QUEUED, percent=0)
    assert lesson.lease is None
    assert lesson.requeues == 2
    assert lesson.queued_at == lesson.updated_at
