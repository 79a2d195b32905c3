"""Asking for lessons to be written: mark them queued, then send their messages."""

import asyncio
import logging
from collections.abc import Mapping, Sequence

from domain.base import utcnow
from domain.errors import (
    ConcurrencyConflict,
    InvalidRequest,
    QuotaExceeded,
    SkillSyncError,
    StorageUnavailable,
)
from domain.lesson import IN_FLIGHT, GenerationStatus, Lesson
from domain.ports import (
    Allowance,
    GenerationMessage,
    GenerationQueue,
    LessonNotifier,
    LessonRepository,
    Quota,
)
from domain.telemetry import (
    ATTR_LESSON,
    ATTR_OUTCOME,
    ATTR_USER,
    QUOTA_REFUSALS,
    NoTelemetry,
    Telemetry,
)

log = logging.getLogger(__name__)

_SAVE_ATTEMPTS = 3


def wants_queue(lesson: Lesson, *, force: bool = False) -> bool:
    """Whether a request would queue the lesson: not in flight, not done (unless forced)."""
    if lesson.status in IN_FLIGHT:
        return False
    return force or lesson.status is not GenerationStatus.COMPLETED


class LessonRequests:
    """The learner's side of generation: queue a lesson at most once while it is in flight."""

    def __init__(
        self,
        lessons: LessonRepository,
        queue: GenerationQueue,
        quota: Quota | None = None,
        *,
        telemetry: Telemetry | None = None,
        notifier: LessonNotifier | None = None,
    ) -> None:
        """With a ``notifier``, each lesson queued (once its message is out) or withdrawn is
        published to its learner."""
        self._lessons = lessons
        self._queue = queue
        self._quota = quota
        self._telemetry = telemetry or NoTelemetry()
        self._notifier = notifier

    async def request(
        self,
        user_id: str,
        lesson_id: str,
        *,
        force: bool = False,
        charge: bool = True,
        instructions: str | None = None,
    ) -> Lesson:
        """Queue the lesson unless it is in flight, or completed (unless ``force``); return it.

        A request that queues spends one of the learner's lessons (``charge``); one that ends up
        queuing nothing (another request won, the queue refused) gives it back.
        """
        attributes = {ATTR_LESSON: lesson_id, ATTR_USER: self._telemetry.user(user_id)}
        with self._telemetry.span("lesson.request", attributes) as span:
            lesson = await self._request(
                user_id, lesson_id, force=force, charge=charge, instructions=instructions
            )
            span.set({ATTR_OUTCOME: lesson.status.value})
            return lesson

    async def _request(
        self,
        user_id: str,
        lesson_id: str,
        *,
        force: bool,
        charge: bool,
        instructions: str | None,
    ) -> Lesson:
        lesson = await self._lessons.get(user_id, lesson_id)
        if instructions and not force and lesson.status is GenerationStatus.COMPLETED:
            raise InvalidRequest(
                "A written lesson is rewritten with instructions only when asked to.",
                [{"field": "instructions", "message": "send force: true to rewrite this lesson"}],
            )
        if not wants_queue(lesson, force=force):
            return lesson
        charged = await self._charge(user_id, 1 if charge else 0)
        queued = False
        try:
            for _ in range(_SAVE_ATTEMPTS):
                if not wants_queue(lesson, force=force):
                    return lesson  # another request queued it meanwhile
                previous = lesson.status
                lesson.queue(force=force, instructions=instructions)
                lesson.trace = self._telemetry.carrier()
                try:
                    await self._lessons.save(lesson)
                except ConcurrencyConflict:
                    lesson = await self._lessons.get(user_id, lesson_id)
                    continue
                if await self.send([(lesson, previous)]):
                    raise StorageUnavailable("the generation queue did not accept the lesson")
                queued = True
                await self._notify(lesson)
                return lesson
            raise ConcurrencyConflict(
                "the lesson kept changing while it was being queued", retry_after=1
            )
        finally:
            if not queued:
                await self._refund(user_id, charged)

    async def request_all(self, user_id: str, lessons: Sequence[Lesson]) -> list[Lesson]:
        """Queue the lessons that want it (pending or failed), in order, as far as the learner's
        allowance goes: one lesson each; ``QuotaExceeded`` only when none is left at all."""
        wanted = [lesson for lesson in lessons if wants_queue(lesson)]
        charged = await self.charge_up_to(user_id, len(wanted)) if wanted else 0
        if self._quota is not None:
            wanted = wanted[:charged]
        sent: list[Lesson] = []
        try:
            previous = {lesson.id: lesson.status for lesson in wanted}
            for lesson in wanted:
                lesson.queue()
                lesson.trace = self._telemetry.carrier()
            saved = await asyncio.gather(
                *(self._lessons.save(lesson) for lesson in wanted), return_exceptions=True
            )
            queued = []
            for lesson, outcome in zip(wanted, saved, strict=True):
                if isinstance(outcome, ConcurrencyConflict):
                    continue  # someone else moved it first; their request stands
                if isinstance(outcome, BaseException):
                    raise outcome
                queued.append((lesson, previous[lesson.id]))
            failed = await self.send(queued)
            sent = [lesson for lesson, _ in queued if lesson not in failed]
            await asyncio.gather(*(self._notify(lesson) for lesson in sent))
            return sent
        finally:
            await self._refund(user_id, charged - len(sent))

    async def charge_up_to(self, user_id: str, count: int) -> int:
        """Spend as many lessons as are left, up to ``count``; ``QuotaExceeded`` if none is.

        Each attempt is one atomic take, so concurrent requests can never spend more than the
        allowance between them. Without a quota everything is granted.
        """
        if self._quota is None or count <= 0:
            return count
        refused: QuotaExceeded | None = None
        for granted in range(count, 0, -1):
            try:
                await take(self._quota, self._telemetry, user_id, Allowance.LESSONS, granted)
            except QuotaExceeded as error:
                refused = refused or error
                continue
            return granted
        assert refused is not None
        raise refused

    async def refund(self, user_id: str, count: int) -> None:
        """Give back ``count`` lessons spent on requests that ended up queuing nothing."""
        await self._refund(user_id, count)

    async def _charge(self, user_id: str, count: int) -> int:
        if count and self._quota is not None:
            await take(self._quota, self._telemetry, user_id, Allowance.LESSONS, count)
            return count
        return 0

    async def _refund(self, user_id: str, count: int) -> None:
        if count <= 0 or self._quota is None:
            return
        try:
            await self._quota.refund(user_id, Allowance.LESSONS, count)
        except SkillSyncError as error:  # the learner loses a unit; the request's error matters
            log.warning("could not give back %d lessons: %s", count, error)

    async def cancel(self, user_id: str, lesson_id: str) -> Lesson:
        """Withdraw a queued lesson (back to ``pending``, or ``completed`` for a rewrite).

        ``IllegalTransition`` for a lesson being written, written or failed: nothing to cancel.
        """
        for _ in range(_SAVE_ATTEMPTS):
            lesson = await self._lessons.get(user_id, lesson_id)
            if lesson.status is GenerationStatus.PENDING:
                return lesson
            lesson.cancel()
            try:
                await self._lessons.save(lesson)
            except ConcurrencyConflict:
                continue
            await self._notify(lesson)
            return lesson
        raise ConcurrencyConflict("the lesson kept changing while it was cancelled", retry_after=1)

    async def _notify(self, lesson: Lesson) -> None:
        """Tell the learner's pages about a change already stored (never raises: see the port)."""
        if self._notifier is not None:
            await self._notifier.lesson_changed(lesson)

    async def send(self, queued: Sequence[tuple[Lesson, GenerationStatus]]) -> list[Lesson]:
        """Send messages for lessons already stored as ``queued``; undo and return those that fail.

        Each item pairs a lesson with the status it had before it was queued.
        """
        results = await asyncio.gather(
            *(self._queue.enqueue(message_for(lesson, lesson.trace)) for lesson, _ in queued),
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


def message_for(lesson: Lesson, trace: Mapping[str, str] | None = None) -> GenerationMessage:
    """The queue message that asks for ``lesson`` to be written, carrying ``trace``."""
    return GenerationMessage(
        lesson_id=lesson.id, user_id=lesson.user_id, requested_at=utcnow(), trace=dict(trace or {})
    )


async def take(
    quota: Quota, telemetry: Telemetry, user_id: str, kind: Allowance, count: int = 1
) -> None:
    """Spend ``count`` of an allowance, counting a refusal in telemetry."""
    try:
        await quota.take(user_id, kind, count)
    except QuotaExceeded:
        telemetry.count(QUOTA_REFUSALS, 1, {"skillsync.allowance": kind.value})
        raise
