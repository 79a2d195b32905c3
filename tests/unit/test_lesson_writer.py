"""LessonWriter: claim a queued lesson, write it once, store the outcome or hand it back."""

import json

import pytest

from adapters.llm.offline import MODEL, OfflineProvider
from domain.base import utcnow
from domain.content import LessonContent
from domain.errors import ContentRejected, ProviderUnavailable
from domain.lesson import GenerationStatus, Lesson, Progress, Stage
from domain.ports import GenerationMessage
from domain.writer import GAVE_UP, LessonWriter, brief_for
from tests.unit.fakes import USER, FakeLessonRepository, FakeProvider, make_brief, make_lesson

S = GenerationStatus
MESSAGE = GenerationMessage(lesson_id="lesson-1", user_id=USER, requested_at=utcnow())


def _writer(lessons: FakeLessonRepository, provider: FakeProvider) -> LessonWriter:
    return LessonWriter(lessons, provider)


async def _offline_payload() -> dict[str, object]:
    draft = await OfflineProvider().write_lesson(make_brief())
    data: dict[str, object] = json.loads(draft.payload)
    return data


async def _completed_lesson() -> Lesson:
    data = await _offline_payload()
    content = LessonContent.model_validate(data)
    return make_lesson(S.COMPLETED, content=content, provider="offline", model=MODEL)


async def test_queued_lesson_is_completed_with_one_offline_call():
    lessons, provider = FakeLessonRepository(), FakeProvider()
    lessons.put(make_lesson(S.QUEUED))

    result = await _writer(lessons, provider).handle(MESSAGE)

    stored = lessons.stored(USER, "lesson-1")
    assert result is not None
    assert result.status is S.COMPLETED
    assert stored.status is S.COMPLETED
    assert stored.provider == "offline"
    assert stored.model == MODEL
    assert stored.content is not None
    assert stored.content.summary.startswith("Offline lesson:")
    assert stored.progress == Progress(stage=Stage.DONE, percent=100)
    assert provider.lesson_calls == 1


async def test_provider_is_briefed_with_the_lessons_own_fields():
    lessons, provider = FakeLessonRepository(), FakeProvider()
    lesson = lessons.put(make_lesson(S.QUEUED))

    await _writer(lessons, provider).handle(MESSAGE)

    assert provider.lesson_briefs == [make_brief()]
    assert brief_for(lesson) == make_brief()


async def test_progress_is_stored_at_each_stage():
    lessons, provider = FakeLessonRepository(), FakeProvider()
    lessons.put(make_lesson(S.QUEUED))

    await _writer(lessons, provider).handle(MESSAGE)

    assert lessons.saved == [
        ("lesson-1", S.GENERATING, Stage.STARTING),
        ("lesson-1", S.GENERATING, Stage.WRITING),
        ("lesson-1", S.GENERATING, Stage.VALIDATING),
        ("lesson-1", S.COMPLETED, Stage.DONE),
    ]


@pytest.mark.parametrize("status", [S.COMPLETED, S.GENERATING, S.PENDING, S.FAILED])
async def test_duplicate_message_for_a_lesson_not_queued_makes_no_provider_call(
    status: GenerationStatus,
):
    lessons, provider = FakeLessonRepository(), FakeProvider()
    before = lessons.put(make_lesson(status))

    result = await _writer(lessons, provider).handle(MESSAGE)

    assert result is None
    assert provider.lesson_calls == 0
    assert lessons.stored(USER, "lesson-1") == before
    assert lessons.stored(USER, "lesson-1").version == before.version


async def test_second_delivery_of_the_same_message_writes_once():
    lessons, provider = FakeLessonRepository(), FakeProvider()
    lessons.put(make_lesson(S.QUEUED))
    writer = _writer(lessons, provider)

    await writer.handle(MESSAGE)
    again = await writer.handle(MESSAGE)

    assert again is None
    assert provider.lesson_calls == 1


async def test_message_for_a_missing_lesson_returns_none():
    lessons, provider = FakeLessonRepository(), FakeProvider()

    assert await _writer(lessons, provider).handle(MESSAGE) is None
    assert provider.lesson_calls == 0


async def test_lesson_claimed_by_another_worker_is_left_to_it():
    lessons, provider = FakeLessonRepository(), FakeProvider()
    lessons.put(make_lesson(S.QUEUED))
    lessons.change_before_next_save(lambda lesson: lesson.start())

    result = await _writer(lessons, provider).handle(MESSAGE)

    assert result is None
    assert provider.lesson_calls == 0
    assert lessons.stored(USER, "lesson-1").status is S.GENERATING


async def test_invalid_json_from_the_provider_fails_the_lesson_readably():
    lessons = FakeLessonRepository()
    provider = FakeProvider(lesson_replies=["Sure! Here is your lesson: {"])
    lessons.put(make_lesson(S.QUEUED))

    result = await _writer(lessons, provider).handle(MESSAGE)

    stored = lessons.stored(USER, "lesson-1")
    assert result is not None
    assert result.status is S.FAILED
    assert stored.status is S.FAILED
    assert stored.generation_error is not None
    assert stored.generation_error.startswith("The written lesson is not valid: ")
    assert "Invalid JSON" in stored.generation_error
    assert stored.content is None
    assert stored.progress == Progress(stage=Stage.FAILED, percent=80)
    assert provider.lesson_calls == 1


@pytest.mark.parametrize(
    ("break_it", "named"),
    [
        (lambda data: data.pop("quiz"), "quiz: Field required"),
        (lambda data: data.update(keyTakeaways=[]), "keyTakeaways"),
        (lambda data: data["quiz"][0].update(answerIndex=7), "answerIndex 7 is not one of"),
    ],
    ids=["missing-quiz", "empty-takeaways", "answer-not-an-option"],
)
async def test_schema_violating_json_fails_the_lesson_naming_the_problem(break_it, named: str):
    data = await _offline_payload()
    break_it(data)
    lessons = FakeLessonRepository()
    provider = FakeProvider(lesson_replies=[json.dumps(data)])
    lessons.put(make_lesson(S.QUEUED))

    await _writer(lessons, provider).handle(MESSAGE)

    stored = lessons.stored(USER, "lesson-1")
    assert stored.status is S.FAILED
    assert stored.generation_error is not None
    assert stored.generation_error.startswith("The written lesson is not valid: ")
    assert named in stored.generation_error


async def test_provider_rejecting_the_brief_fails_the_lesson_with_its_reason():
    lessons = FakeLessonRepository()
    provider = FakeProvider(lesson_replies=[ContentRejected("The model refused this topic.")])
    lessons.put(make_lesson(S.QUEUED))

    await _writer(lessons, provider).handle(MESSAGE)

    stored = lessons.stored(USER, "lesson-1")
    assert stored.status is S.FAILED
    assert stored.generation_error == "The model refused this topic."


async def test_unavailable_provider_hands_the_lesson_back_to_the_queue_and_re_raises():
    lessons = FakeLessonRepository()
    provider = FakeProvider(lesson_replies=[ProviderUnavailable("429 from the provider")])
    lessons.put(make_lesson(S.QUEUED))

    with pytest.raises(ProviderUnavailable, match="429"):
        await _writer(lessons, provider).handle(MESSAGE)

    stored = lessons.stored(USER, "lesson-1")
    assert stored.status is S.QUEUED
    assert stored.progress == Progress(stage=Stage.QUEUED, percent=0)
    assert stored.generation_error is None


async def test_redelivery_after_an_unavailable_provider_completes_the_lesson():
    lessons = FakeLessonRepository()
    provider = FakeProvider(lesson_replies=[ProviderUnavailable("timeout")])
    lessons.put(make_lesson(S.QUEUED))
    writer = _writer(lessons, provider)
    with pytest.raises(ProviderUnavailable):
        await writer.handle(MESSAGE)

    result = await writer.handle(MESSAGE)

    assert result is not None
    assert result.status is S.COMPLETED
    assert lessons.stored(USER, "lesson-1").status is S.COMPLETED
    assert provider.lesson_calls == 2


@pytest.mark.parametrize("status", [S.QUEUED, S.GENERATING])
async def test_give_up_fails_an_in_flight_lesson(status: GenerationStatus):
    lessons, provider = FakeLessonRepository(), FakeProvider()
    lessons.put(make_lesson(status))

    result = await _writer(lessons, provider).give_up(MESSAGE)

    stored = lessons.stored(USER, "lesson-1")
    assert result is not None
    assert stored.status is S.FAILED
    assert stored.generation_error == GAVE_UP
    assert provider.lesson_calls == 0


async def test_give_up_leaves_a_completed_lesson_alone():
    lessons, provider = FakeLessonRepository(), FakeProvider()
    before = lessons.put(await _completed_lesson())

    result = await _writer(lessons, provider).give_up(MESSAGE)

    assert result == before
    assert lessons.stored(USER, "lesson-1") == before
    assert lessons.stored(USER, "lesson-1").version == before.version


async def test_give_up_for_a_missing_lesson_returns_none():
    lessons, provider = FakeLessonRepository(), FakeProvider()

    assert await _writer(lessons, provider).give_up(MESSAGE) is None
