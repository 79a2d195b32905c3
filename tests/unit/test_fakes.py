"""The fakes keep the ports' contracts; the service tests are only as good as they are."""

import pytest

from domain.base import utcnow
from domain.errors import ConcurrencyConflict, NotFound, StorageUnavailable
from domain.lesson import GenerationStatus
from domain.ports import GenerationMessage
from tests.unit.fakes import USER, FakeLessonRepository, FakeQueue, make_lesson


async def test_save_bumps_the_version_of_the_saved_copy():
    repo = FakeLessonRepository()
    repo.put(make_lesson())
    lesson = await repo.get(USER, "lesson-1")
    before = lesson.version

    lesson.queue()
    await repo.save(lesson)

    assert lesson.version != before
    assert repo.stored(USER, "lesson-1").version == lesson.version
    assert repo.stored(USER, "lesson-1").status is GenerationStatus.QUEUED


async def test_save_with_a_stale_version_is_a_concurrency_conflict():
    repo = FakeLessonRepository()
    repo.put(make_lesson())
    first = await repo.get(USER, "lesson-1")
    second = await repo.get(USER, "lesson-1")
    first.queue()
    await repo.save(first)

    second.queue()
    with pytest.raises(ConcurrencyConflict):
        await repo.save(second)
    assert repo.stored(USER, "lesson-1").version == first.version


async def test_changing_a_read_copy_does_not_change_the_stored_lesson():
    repo = FakeLessonRepository()
    repo.put(make_lesson())
    lesson = await repo.get(USER, "lesson-1")

    lesson.queue()

    assert repo.stored(USER, "lesson-1").status is GenerationStatus.PENDING


async def test_another_users_lesson_is_not_found():
    repo = FakeLessonRepository()
    repo.put(make_lesson())

    with pytest.raises(NotFound):
        await repo.get("someone-else", "lesson-1")


async def test_refusing_queue_raises_storage_unavailable_and_records_nothing():
    queue = FakeQueue()
    queue.refuse()
    message = GenerationMessage(lesson_id="lesson-1", user_id=USER, requested_at=utcnow())

    with pytest.raises(StorageUnavailable):
        await queue.enqueue(message)
    assert queue.messages == []
