"""LessonWriter: claim a queued lesson, write it through the provider chain, store the outcome."""

import json
from datetime import UTC, datetime

import pytest

from adapters.llm.offline import MODEL, OfflineProvider
from domain.base import utcnow
from domain.briefs import brief_for
from domain.content import LessonContent
from domain.errors import (
    NoProviderSucceeded,
    ProviderRateLimited,
    ProviderRejected,
    ProviderUnavailable,
)
from domain.lesson import GenerationStatus, Lease, Lesson, Progress, Stage
from domain.lesson_writer import COULD_NOT_WRITE, GAVE_UP, LessonWriter
from domain.ports import GenerationMessage, LlmProvider, TaskKind
from tests.unit.fakes import (
    USER,
    FakeLessonRepository,
    FakeProvider,
    chain_of,
    make_brief,
    make_lesson,
    offline_lesson_data,
    trail,
)

S = GenerationStatus
MESSAGE = GenerationMessage(lesson_id="lesson-1", user_id=USER, requested_at=utcnow())
BUDGET = 25.0  # less than the attempt timeout (30 s), so it bounds the one call
LIVE = datetime(2999, 1, 1, tzinfo=UTC)  # a lease that outlives the test, whenever it runs
NO_VALID_ANSWER = "None of the writing services could write this lesson; please try again."
# The learner is told what to do; what went wrong is the operator's ``diagnosis``.
LEARNER_SEES = COULD_NOT_WRITE


def _writer(lessons: FakeLessonRepository, *providers: LlmProvider) -> LessonWriter:
    return LessonWriter(lessons, chain_of(*providers).chain, budget=BUDGET)


async def _completed_lesson() -> Lesson:
    content = LessonContent.model_validate(await offline_lesson_data())
    return make_lesson(S.COMPLETED, content=content, provider="offline", model=MODEL)


async def test_queued_lesson_is_completed_by_the_first_provider_with_one_call():
    lessons, groq, gemini = FakeLessonRepository(), FakeProvider("groq"), FakeProvider("gemini")
    lessons.put(make_lesson(S.QUEUED))

    result = await _writer(lessons, groq, gemini, OfflineProvider()).handle(MESSAGE)

    stored = lessons.stored(USER, "lesson-1")
    assert result is not None
    assert result.status is S.COMPLETED
    assert stored.status is S.COMPLETED
    assert (stored.provider, stored.model) == ("groq", "groq-model")
    assert stored.content is not None
    assert stored.progress == Progress(stage=Stage.DONE, percent=100)
    assert trail(stored.attempts) == [("groq", "ok")]
    assert (groq.calls, gemini.calls) == (1, 0)


async def test_offline_provider_writes_the_lesson_when_the_network_providers_fail():
    lessons = FakeLessonRepository()
    groq = FakeProvider("groq", lesson=[ProviderRateLimited("429", retry_after=None)])
    lessons.put(make_lesson(S.QUEUED))

    await _writer(lessons, groq, OfflineProvider()).handle(MESSAGE)

    stored = lessons.stored(USER, "lesson-1")
    assert stored.status is S.COMPLETED
    assert (stored.provider, stored.model) == ("offline", MODEL)
    assert stored.content is not None
    assert stored.content.summary.startswith("Offline lesson:")
    assert trail(stored.attempts) == [("groq", "rate_limited"), ("offline", "ok")]


async def test_provider_is_asked_for_the_lesson_with_the_lessons_own_fields_and_budget():
    lessons, groq = FakeLessonRepository(), FakeProvider("groq")
    lesson = lessons.put(make_lesson(S.QUEUED))

    await _writer(lessons, groq).handle(MESSAGE)

    [task] = groq.tasks
    assert (task.kind, task.brief, task.schema, task.repair) == (
        TaskKind.LESSON,
        make_brief(),
        LessonContent,
        None,
    )
    assert brief_for(lesson) == make_brief()
    assert groq.time_limits == [BUDGET]


async def test_progress_is_stored_at_each_stage():
    lessons = FakeLessonRepository()
    lessons.put(make_lesson(S.QUEUED))

    await _writer(lessons, FakeProvider("groq")).handle(MESSAGE)

    assert lessons.saved == [
        ("lesson-1", S.GENERATING, Stage.STARTING),
        ("lesson-1", S.GENERATING, Stage.WRITING),
        ("lesson-1", S.COMPLETED, Stage.DONE),
    ]


@pytest.mark.parametrize("status", [S.COMPLETED, S.GENERATING, S.PENDING, S.FAILED])
async def test_duplicate_message_for_a_lesson_not_queued_makes_no_provider_call(
    status: GenerationStatus,
):
    lessons, groq = FakeLessonRepository(), FakeProvider("groq")
    # A generating lesson is someone else's while its lease lasts.
    before = lessons.put(make_lesson(status, lease=Lease(owner="worker-b", expires_at=LIVE)))

    result = await _writer(lessons, groq).handle(MESSAGE)

    assert result is None
    assert groq.calls == 0
    assert lessons.stored(USER, "lesson-1") == before
    assert lessons.stored(USER, "lesson-1").version == before.version


async def test_second_delivery_of_the_same_message_writes_once():
    lessons, groq = FakeLessonRepository(), FakeProvider("groq")
    lessons.put(make_lesson(S.QUEUED))
    writer = _writer(lessons, groq)

    await writer.handle(MESSAGE)
    again = await writer.handle(MESSAGE)

    assert again is None
    assert groq.calls == 1


async def test_message_for_a_missing_lesson_returns_none():
    lessons, groq = FakeLessonRepository(), FakeProvider("groq")

    assert await _writer(lessons, groq).handle(MESSAGE) is None
    assert groq.calls == 0


async def test_lesson_claimed_by_another_worker_is_left_to_it():
    lessons, groq = FakeLessonRepository(), FakeProvider("groq")
    lessons.put(make_lesson(S.QUEUED))
    lessons.change_before_next_save(lambda lesson: lesson.start("worker-b", LIVE))

    result = await _writer(lessons, groq).handle(MESSAGE)

    assert result is None
    assert groq.calls == 0
    assert lessons.stored(USER, "lesson-1").status is S.GENERATING


async def test_invalid_json_gets_one_repair_then_the_next_provider_writes_the_lesson():
    lessons = FakeLessonRepository()
    groq = FakeProvider("groq", lesson=["Sure! Here is your lesson: {", "Sorry, again: {"])
    lessons.put(make_lesson(S.QUEUED))

    await _writer(lessons, groq, OfflineProvider()).handle(MESSAGE)

    stored = lessons.stored(USER, "lesson-1")
    assert stored.status is S.COMPLETED
    assert stored.provider == "offline"
    assert trail(stored.attempts) == [("groq", "invalid"), ("groq", "invalid"), ("offline", "ok")]
    repair = groq.tasks[1].repair
    assert repair is not None
    assert repair.previous == "Sure! Here is your lesson: {"
    assert "Invalid JSON" in repair.problem


async def test_lesson_fails_with_its_attempts_when_no_provider_gives_a_valid_answer():
    lessons = FakeLessonRepository()
    groq = FakeProvider("groq", lesson=["not json", "still not json"])
    gemini = FakeProvider("gemini", lesson=["{}", "[]"])
    lessons.put(make_lesson(S.QUEUED))

    result = await _writer(lessons, groq, gemini).handle(MESSAGE)

    stored = lessons.stored(USER, "lesson-1")
    assert result is not None
    assert result.status is S.FAILED
    assert stored.status is S.FAILED
    assert stored.generation_error == LEARNER_SEES
    assert stored.diagnosis == NO_VALID_ANSWER
    assert stored.content is None
    assert stored.progress == Progress(stage=Stage.FAILED, percent=30)
    assert trail(stored.attempts) == [("groq", "invalid")] * 2 + [("gemini", "invalid")] * 2


@pytest.mark.parametrize(
    ("break_it", "named"),
    [
        (lambda data: data.pop("quiz"), "quiz: Field required"),
        (lambda data: data.update(keyTakeaways=[]), "keyTakeaways"),
        (lambda data: data["quiz"][0].update(answerIndex=7), "answerIndex 7 is not one of"),
    ],
    ids=["missing-quiz", "empty-takeaways", "answer-not-an-option"],
)
async def test_schema_violating_lesson_is_sent_back_naming_the_problem(break_it, named: str):
    data = await offline_lesson_data()
    break_it(data)
    lessons = FakeLessonRepository()
    groq = FakeProvider("groq", lesson=[json.dumps(data)] * 2)
    lessons.put(make_lesson(S.QUEUED))

    await _writer(lessons, groq).handle(MESSAGE)

    stored = lessons.stored(USER, "lesson-1")
    assert stored.status is S.FAILED
    assert stored.generation_error == LEARNER_SEES
    repair = groq.tasks[1].repair
    assert repair is not None
    assert named in repair.problem


async def test_provider_refusing_the_request_falls_through_to_the_next_provider():
    lessons = FakeLessonRepository()
    error = ProviderRejected("groq answered HTTP 400", status=400, auth=False)
    groq = FakeProvider("groq", lesson=[error])
    lessons.put(make_lesson(S.QUEUED))

    await _writer(lessons, groq, OfflineProvider()).handle(MESSAGE)

    stored = lessons.stored(USER, "lesson-1")
    assert stored.status is S.COMPLETED
    assert trail(stored.attempts) == [("groq", "rejected"), ("offline", "ok")]
    assert groq.calls == 1


async def test_every_provider_failing_transiently_hands_the_lesson_back_and_re_raises():
    lessons = FakeLessonRepository()
    groq = FakeProvider("groq", lesson=[ProviderUnavailable("503")] * 2)
    gemini = FakeProvider("gemini", lesson=[ProviderRateLimited("429", retry_after=None)])
    lessons.put(make_lesson(S.QUEUED))

    with pytest.raises(NoProviderSucceeded) as raised:
        await _writer(lessons, groq, gemini).handle(MESSAGE)

    stored = lessons.stored(USER, "lesson-1")
    assert stored.status is S.QUEUED
    assert stored.progress == Progress(stage=Stage.QUEUED, percent=0)
    assert stored.generation_error is None
    assert trail(raised.value.attempts) == [
        ("groq", "unavailable"),
        ("groq", "unavailable"),
        ("gemini", "rate_limited"),
    ]


async def test_redelivery_after_every_provider_failed_completes_the_lesson():
    lessons = FakeLessonRepository()
    groq = FakeProvider("groq", lesson=[ProviderUnavailable("503")] * 2)
    lessons.put(make_lesson(S.QUEUED))
    writer = _writer(lessons, groq)
    with pytest.raises(NoProviderSucceeded):
        await writer.handle(MESSAGE)

    result = await writer.handle(MESSAGE)

    assert result is not None
    assert result.status is S.COMPLETED
    assert lessons.stored(USER, "lesson-1").status is S.COMPLETED
    assert trail(lessons.stored(USER, "lesson-1").attempts) == [("groq", "ok")]
    assert groq.calls == 3


@pytest.mark.parametrize("status", [S.QUEUED, S.GENERATING])
async def test_give_up_fails_an_in_flight_lesson(status: GenerationStatus):
    lessons, groq = FakeLessonRepository(), FakeProvider("groq")
    lessons.put(make_lesson(status))

    result = await _writer(lessons, groq).give_up(MESSAGE)

    stored = lessons.stored(USER, "lesson-1")
    assert result is not None
    assert stored.status is S.FAILED
    assert stored.generation_error == GAVE_UP
    assert groq.calls == 0


async def test_give_up_leaves_a_completed_lesson_alone():
    lessons = FakeLessonRepository()
    before = lessons.put(await _completed_lesson())

    result = await _writer(lessons, FakeProvider("groq")).give_up(MESSAGE)

    assert result == before
    assert lessons.stored(USER, "lesson-1") == before
    assert lessons.stored(USER, "lesson-1").version == before.version


async def test_give_up_for_a_missing_lesson_returns_none():
    lessons = FakeLessonRepository()

    assert await _writer(lessons, FakeProvider("groq")).give_up(MESSAGE) is None
