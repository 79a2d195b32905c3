"""Forced regeneration: a completed lesson can be written again, and stays readable meanwhile."""

import json
from datetime import UTC, datetime

import pytest

from domain.content import LessonContent
from domain.errors import StorageUnavailable
from domain.lesson import GenerationStatus, Lease, Lesson, Progress, ProviderAttempt, Stage
from domain.lesson_requests import LessonRequests
from domain.lesson_writer import LessonWriter
from domain.views import LessonView
from tests.support.samples import lesson_json
from tests.unit.fakes import (
    USER,
    FakeLessonRepository,
    FakeProvider,
    FakeQueue,
    chain_of,
    make_lesson,
    offline_lesson_data,
)

S = GenerationStatus
WRITTEN_AT = datetime(2024, 5, 10, 12, 0, tzinfo=UTC)
COULD_NOT_QUEUE = "The lesson could not be queued; please try again."
LIVE = datetime(2999, 1, 1, tzinfo=UTC)


@pytest.fixture
def requests(lessons: FakeLessonRepository, queue: FakeQueue) -> LessonRequests:
    return LessonRequests(lessons, queue)


async def _completed(**fields: object) -> Lesson:
    content = LessonContent.model_validate(await offline_lesson_data())
    return make_lesson(
        S.COMPLETED,
        content=content,
        provider="offline",
        model="offline-template-v1",
        attempts=[ProviderAttempt(provider="offline", outcome="ok", ms=2)],
        generated_at=WRITTEN_AT,
        progress=Progress(stage=Stage.DONE, percent=100),
        **fields,
    )


async def test_forced_request_queues_a_completed_lesson_and_keeps_its_content_readable(
    requests: LessonRequests, lessons: FakeLessonRepository, queue: FakeQueue
):
    completed = lessons.put(await _completed())

    lesson = await requests.request(USER, "lesson-1", force=True)

    view = LessonView.of(lessons.stored(USER, "lesson-1"))
    assert lesson.status is S.QUEUED
    assert view.generation_status is S.QUEUED
    assert view.content == completed.content
    assert view.generated_at == WRITTEN_AT
    assert queue.lesson_ids == ["lesson-1"]


async def test_request_without_force_returns_a_completed_lesson_untouched(
    requests: LessonRequests, lessons: FakeLessonRepository, queue: FakeQueue
):
    completed = lessons.put(await _completed())

    lesson = await requests.request(USER, "lesson-1")

    assert lesson == completed
    assert lessons.stored(USER, "lesson-1").version == completed.version
    assert queue.messages == []


@pytest.mark.parametrize(
    "lesson",
    [
        make_lesson(S.QUEUED),
        make_lesson(S.GENERATING, lease=Lease(owner="worker-a", expires_at=LIVE)),
    ],
    ids=["queued", "generating"],
)
async def test_forced_request_for_a_lesson_in_flight_enqueues_nothing(
    requests: LessonRequests, lessons: FakeLessonRepository, queue: FakeQueue, lesson: Lesson
):
    before = lessons.put(lesson)

    result = await requests.request(USER, "lesson-1", force=True)

    assert result == before
    assert lessons.stored(USER, "lesson-1").version == before.version
    assert queue.messages == []


async def test_refused_send_after_a_forced_queue_puts_the_completed_lesson_back(
    requests: LessonRequests, lessons: FakeLessonRepository, queue: FakeQueue
):
    completed = lessons.put(await _completed())
    queue.refuse()

    with pytest.raises(StorageUnavailable):
        await requests.request(USER, "lesson-1", force=True)

    stored = lessons.stored(USER, "lesson-1")
    assert stored.status is S.COMPLETED
    assert stored.content == completed.content
    assert stored.generated_at == WRITTEN_AT
    assert stored.progress == Progress(stage=Stage.DONE, percent=100)
    assert stored.last_error == COULD_NOT_QUEUE
    assert stored.generation_error is None
    assert queue.messages == []


async def test_refused_send_after_a_forced_queue_keeps_how_the_content_was_written(
    requests: LessonRequests, lessons: FakeLessonRepository, queue: FakeQueue
):
    completed = lessons.put(await _completed())
    queue.refuse()

    with pytest.raises(StorageUnavailable):
        await requests.request(USER, "lesson-1", force=True)

    stored = lessons.stored(USER, "lesson-1")
    assert (stored.provider, stored.model) == (completed.provider, completed.model)
    assert stored.attempts == completed.attempts


@pytest.mark.parametrize("force", [False, True])
async def test_learners_request_starts_the_counts_and_the_last_problem_afresh(
    requests: LessonRequests, lessons: FakeLessonRepository, force: bool
):
    lessons.put(
        make_lesson(
            S.FAILED,
            generation_error="We could not write this lesson after several attempts.",
            deliveries=5,
            requeues=2,
            last_error="groq answered HTTP 503",
        )
    )

    await requests.request(USER, "lesson-1", force=force)

    stored = lessons.stored(USER, "lesson-1")
    assert stored.status is S.QUEUED
    assert (stored.deliveries, stored.requeues, stored.last_error) == (0, 0, None)
    assert stored.generation_error is None


async def test_forced_rewrite_replaces_the_content_once_the_new_one_is_written(
    requests: LessonRequests, lessons: FakeLessonRepository, queue: FakeQueue
):
    lessons.put(await _completed())
    await requests.request(USER, "lesson-1", force=True)
    rewritten = json.dumps(lesson_json(summary="A fresh take on HTTP requests and responses."))
    groq = FakeProvider("groq", lesson=[rewritten])
    [message] = queue.messages

    await LessonWriter(lessons, chain_of(groq).chain, budget=25.0).handle(message)

    stored = lessons.stored(USER, "lesson-1")
    assert stored.status is S.COMPLETED
    assert stored.content is not None
    assert stored.content.summary == "A fresh take on HTTP requests and responses."
    assert (stored.provider, stored.model) == ("groq", "groq-model")
    assert stored.generated_at is not None
    assert stored.generated_at > WRITTEN_AT
    assert stored.deliveries == 1
