"""LessonRequests: a learner's request queues a lesson at most once while it is in flight."""

import pytest

from domain.errors import ConcurrencyConflict, NotFound, StorageUnavailable
from domain.lesson import GenerationStatus, Lesson
from domain.lesson_requests import LessonRequests
from tests.unit.fakes import (
    USER,
    FakeLessonRepository,
    FakeQueue,
    make_lesson,
)

S = GenerationStatus
COULD_NOT_QUEUE = "The lesson could not be queued; please try again."


@pytest.fixture
def requests(lessons: FakeLessonRepository, queue: FakeQueue) -> LessonRequests:
    return LessonRequests(lessons, queue)


async def test_request_queues_a_pending_lesson_and_sends_one_message(
    requests: LessonRequests, lessons: FakeLessonRepository, queue: FakeQueue
):
    lessons.put(make_lesson(S.PENDING))

    lesson = await requests.request(USER, "lesson-1")

    assert lesson.status is S.QUEUED
    assert lessons.stored(USER, "lesson-1").status is S.QUEUED
    assert [(m.lesson_id, m.user_id) for m in queue.messages] == [("lesson-1", USER)]


async def test_duplicate_request_enqueues_nothing(
    requests: LessonRequests, lessons: FakeLessonRepository, queue: FakeQueue
):
    lessons.put(make_lesson(S.PENDING))
    await requests.request(USER, "lesson-1")
    version = lessons.stored(USER, "lesson-1").version

    again = await requests.request(USER, "lesson-1")

    assert again.status is S.QUEUED
    assert queue.lesson_ids == ["lesson-1"]
    assert lessons.stored(USER, "lesson-1").version == version


async def test_request_for_a_generating_lesson_enqueues_nothing(
    requests: LessonRequests, lessons: FakeLessonRepository, queue: FakeQueue
):
    lessons.put(make_lesson(S.GENERATING))

    lesson = await requests.request(USER, "lesson-1")

    assert lesson.status is S.GENERATING
    assert queue.messages == []


async def test_failed_lesson_can_be_requested_again(
    requests: LessonRequests, lessons: FakeLessonRepository, queue: FakeQueue
):
    lessons.put(make_lesson(S.FAILED, generation_error="The provider gave up."))

    lesson = await requests.request(USER, "lesson-1")

    stored = lessons.stored(USER, "lesson-1")
    assert lesson.status is S.QUEUED
    assert stored.status is S.QUEUED
    assert stored.generation_error is None
    assert queue.lesson_ids == ["lesson-1"]


@pytest.mark.parametrize("previous", [S.PENDING, S.FAILED])
async def test_refused_message_puts_the_lesson_back_with_an_error(
    requests: LessonRequests,
    lessons: FakeLessonRepository,
    queue: FakeQueue,
    previous: GenerationStatus,
):
    lessons.put(make_lesson(previous, generation_error="old error"))
    queue.refuse()

    with pytest.raises(StorageUnavailable):
        await requests.request(USER, "lesson-1")

    stored = lessons.stored(USER, "lesson-1")
    assert stored.status is previous
    assert stored.generation_error == COULD_NOT_QUEUE
    assert queue.messages == []


async def test_unexpected_queue_error_is_undone_and_re_raised(
    requests: LessonRequests, lessons: FakeLessonRepository, queue: FakeQueue
):
    lessons.put(make_lesson(S.PENDING))
    queue.refuse(RuntimeError("bug in the queue adapter"))

    with pytest.raises(RuntimeError, match="bug in the queue adapter"):
        await requests.request(USER, "lesson-1")

    assert lessons.stored(USER, "lesson-1").status is S.PENDING


async def test_concurrent_change_is_retried_and_queued_once(
    requests: LessonRequests, lessons: FakeLessonRepository, queue: FakeQueue
):
    lessons.put(make_lesson(S.PENDING))

    def someone_edits_the_description(lesson: Lesson) -> None:
        lesson.description = "Edited meanwhile."

    lessons.change_before_next_save(someone_edits_the_description)

    lesson = await requests.request(USER, "lesson-1")

    stored = lessons.stored(USER, "lesson-1")
    assert lesson.status is S.QUEUED
    assert stored.status is S.QUEUED
    assert stored.description == "Edited meanwhile."
    assert queue.lesson_ids == ["lesson-1"]


async def test_losing_the_race_to_another_request_enqueues_nothing(
    requests: LessonRequests, lessons: FakeLessonRepository, queue: FakeQueue
):
    lessons.put(make_lesson(S.PENDING))
    lessons.change_before_next_save(lambda lesson: lesson.queue())

    lesson = await requests.request(USER, "lesson-1")

    assert lesson.status is S.QUEUED
    assert queue.messages == []


async def test_lesson_that_keeps_changing_gives_up_with_a_conflict(
    requests: LessonRequests, lessons: FakeLessonRepository, queue: FakeQueue
):
    lessons.put(make_lesson(S.PENDING))
    for _ in range(3):
        lessons.change_before_next_save(lambda lesson: None)

    with pytest.raises(ConcurrencyConflict) as raised:
        await requests.request(USER, "lesson-1")

    assert raised.value.retry_after == 1
    assert lessons.stored(USER, "lesson-1").status is S.PENDING
    assert queue.messages == []


async def test_request_for_an_unknown_lesson_is_not_found(
    requests: LessonRequests, lessons: FakeLessonRepository
):
    lessons.put(make_lesson(S.PENDING))

    with pytest.raises(NotFound):
        await requests.request("another-user", "lesson-1")
