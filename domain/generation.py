"""Asking for lessons to be written: mark them queued, then send their messages."""

import asyncio
import logging
from collections.abc import Sequence

from domain.base import utcnow
from domain.errors import ConcurrencyConflict, SkillSyncError, StorageUnavailable
from domain.lesson import IN_FLIGHT, GenerationStatus, Lesson
from domain.ports import GenerationMessage, GenerationQueue, LessonRepository

log = logging.getLogger(__name__)

_SAVE_ATTEMPTS = 3


class GenerationRequests:
    """The learner's side of generation: queue a lesson at most once while it is in flight."""

    def __init__(self, lessons: LessonRepository, queue: GenerationQueue) -> None:
        self._lessons = lessons
        self._queue = queue

    async def request(self, user_id: str, lesson_id: str, *, force: bool = False) -> Lesson:
        """Queue the lesson unless it is in flight, or completed (unless ``force``); return it."""
        for _ in range(_SAVE_ATTEMPTS):
            lesson = await self._lessons.get(user_id, lesson_id)
            done = lesson.status is GenerationStatus.COMPLETED and not force
            if lesson.status in IN_FLIGHT or done:
                return lesson
            previous = lesson.status
            lesson.queue(force=force)
            try:
                await self._lessons.save(lesson)
            except ConcurrencyConflict:
                continue  # another request changed it first: look again
            failures = await self.send([(lesson, previous)])
            if failures:
                raise StorageUnavailable("the generation queue did not accept the lesson")
            return lesson
        raise ConcurrencyConflict(
            "the lesson kept changing while it was being queued", retry_after=1
        )

    async def send(self, queued: Sequence[tuple[Lesson, GenerationStatus]]) -> list[Lesson]:
        """Send messages for lessons already stored as ``queued``; undo and return those that fail.

        Each item pairs a lesson with the status it had before it was queued.
        """
        results = await asyncio.gather(
            *(self._queue.enqueue(message_for(lesson)) for lesson, _ in queued),
            return_exceptions=True,
        )
        failed = [(item, result) for item, result in zip(queued, results, strict=True) if result]
        unexpected = [error for _, error in failed if not isinstance(error, SkillSyncError)]
        for (lesson, previous), error in failed:
            log.warning("could not queue lesson %s: %s", lesson.id, error)
            await self._undo_queue(lesson, previous)
        if unexpected:
            raise unexpected[0]
        return [lesson for (lesson, _), _ in failed]

    async def _undo_queue(self, lesson: Lesson, previous: GenerationStatus) -> None:
        lesson.unqueue(previous)
        try:
            await self._lessons.save(lesson)
        except ConcurrencyConflict:
            # The message did go out after all and a worker claimed the lesson: leave it be.
            log.info("lesson %s changed while its queueing was undone; leaving it", lesson.id)
        except StorageUnavailable as error:
            log.error("lesson %s stays queued without a message: %s", lesson.id, error)


def message_for(lesson: Lesson) -> GenerationMessage:
    """The queue message that asks for ``lesson`` to be written."""
    return GenerationMessage(lesson_id=lesson.id, user_id=lesson.user_id, requested_at=utcnow())
