"""The lesson status state machine: the transitions drawn in domain/lesson.py, and no others."""

from collections.abc import Callable

import pytest

from domain.content import LessonContent
from domain.errors import IllegalTransition
from domain.lesson import GenerationStatus, Lesson, Progress, ProviderAttempt, Stage, TokenUsage
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


# Each method, and the status it moves a lesson to when it is allowed to.
METHODS: dict[str, tuple[Callable[[Lesson], None], GenerationStatus]] = {
    "queue": (lambda lesson: lesson.queue(), S.QUEUED),
    "unqueue_to_pending": (lambda lesson: lesson.unqueue(S.PENDING), S.PENDING),
    "unqueue_to_failed": (lambda lesson: lesson.unqueue(S.FAILED), S.FAILED),
    "start": (lambda lesson: lesson.start(), S.GENERATING),
    "report": (lambda lesson: lesson.report(Stage.WRITING, 20), S.GENERATING),
    "release": (lambda lesson: lesson.release(), S.QUEUED),
    "complete": (_complete, S.COMPLETED),
    "fail": (lambda lesson: lesson.fail("The provider gave up."), S.FAILED),
}

# The diagram in domain/lesson.py, plus queued -> failed via ``fail`` (LessonWriter.give_up fails
# a lesson whose message was poisoned before any worker claimed it).
ALLOWED = {
    (S.PENDING, "queue"),
    (S.FAILED, "queue"),
    (S.QUEUED, "unqueue_to_pending"),
    (S.QUEUED, "unqueue_to_failed"),
    (S.QUEUED, "start"),
    (S.QUEUED, "fail"),
    (S.GENERATING, "report"),
    (S.GENERATING, "release"),
    (S.GENERATING, "complete"),
    (S.GENERATING, "fail"),
}


def _refused_cases() -> list[object]:
    return [
        pytest.param(status, method, id=f"{status}-{method}")
        for status in S
        for method in METHODS
        if (status, method) not in ALLOWED
    ]


@pytest.mark.parametrize(
    ("status", "method"), sorted(ALLOWED), ids=[f"{s}-{m}" for s, m in sorted(ALLOWED)]
)
def test_allowed_transition_moves_the_lesson(status: GenerationStatus, method: str):
    lesson = make_lesson(status)
    call, target = METHODS[method]

    call(lesson)

    assert lesson.status is target


@pytest.mark.parametrize(("status", "method"), _refused_cases())
def test_any_other_transition_is_refused(status: GenerationStatus, method: str):
    lesson = make_lesson(status)
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

    lesson.start()

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


@pytest.mark.parametrize("previous", [S.QUEUED, S.GENERATING, S.COMPLETED])
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
