"""Repairing what crashes and lost messages leave behind.

A timer runs ``Sweeper.sweep``: a lesson ``generating`` past its lease (its worker died) or
``queued`` for longer than any message should wait (the send was lost, or the worker crashed
between storing ``queued`` and sending) is re-queued with a new message, a bounded number of
times, then marked ``failed`` with a reason the learner can act on.
"""

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from domain.errors import ConcurrencyConflict, NotFound, StorageUnavailable
from domain.lesson import Lesson
from domain.lesson_requests import message_for
from domain.ports import GenerationQueue, LessonNotifier, LessonRepository, QueueDepths
from domain.telemetry import (
    ATTR_LESSON,
    LESSONS_FAILED,
    QUEUE_DEPTH,
    SWEEPER_REPAIRS,
    NoTelemetry,
    Telemetry,
)

log = logging.getLogger(__name__)

STUCK = (
    "This lesson got stuck several times on its way to be written. "
    "Please try again; if it keeps happening, tell us."
)


@dataclass
class SweepReport:
    """What one sweep did, by lesson id."""

    requeued: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


class Sweeper:
    """Finds stuck lessons and sends them again (or gives up on them)."""

    def __init__(
        self,
        lessons: LessonRepository,
        queue: GenerationQueue,
        *,
        queued_for: float,
        max_requeues: int,
        batch: int = 100,
        depths: QueueDepths | None = None,
        telemetry: Telemetry | None = None,
        notifier: LessonNotifier | None = None,
    ) -> None:
        """``queued_for``: seconds a lesson may stay queued before it counts as stuck;
        ``depths`` reports the queues' lengths at every pass (a gauge per queue); ``notifier``
        tells the learner of each repair (queued again, or failed)."""
        self._lessons = lessons
        self._queue = queue
        self._depths = depths
        self._telemetry = telemetry or NoTelemetry()
        self._queued_for = timedelta(seconds=queued_for)
        self._max_requeues = max_requeues
        self._batch = batch
        self._notifier = notifier

    async def sweep(self, now: datetime) -> SweepReport:
        """One pass over the stuck lessons; each is repaired at most once per pass."""
        await self._report_depths()
        report = SweepReport()
        queued_before = now - self._queued_for
        for lesson in await self._lessons.find_stuck(now, queued_before, self._batch):
            if not lesson.stuck(now, queued_before):
                continue
            gave_up = lesson.requeues >= self._max_requeues
            try:
                if gave_up:
                    lesson.fail(STUCK)
                else:
                    # The message first: if it cannot be sent, nothing is counted and the next
                    # pass tries again; if the save below loses a race, the message is a
                    # harmless duplicate (a claim needs a queued lesson or an expired lease).
                    await self._resend(lesson)
                    lesson.requeue()
                await self._lessons.save(lesson)
            except (ConcurrencyConflict, NotFound):
                continue  # it moved on by itself meanwhile
            except StorageUnavailable as error:
                log.warning("sweep: lesson %s left for the next pass: %s", lesson.id, error)
                continue
            if self._notifier is not None:
                await self._notifier.lesson_changed(lesson)
            (report.failed if gave_up else report.requeued).append(lesson.id)
            action = "failed" if gave_up else "requeued"
            self._telemetry.count(SWEEPER_REPAIRS, 1, {"skillsync.action": action})
            if gave_up:
                self._telemetry.count(LESSONS_FAILED, 1, {"skillsync.reason": "stuck"})
        if report.requeued or report.failed:
            log.warning("sweep: requeued %s, failed %s", report.requeued, report.failed)
        return report

    async def _resend(self, lesson: Lesson) -> None:
        """A new message, in a trace of its own that links to the learner's original request."""
        with self._telemetry.span(
            "lesson.resend", {ATTR_LESSON: lesson.id}, links=[lesson.trace] if lesson.trace else ()
        ):
            await self._queue.enqueue(message_for(lesson, self._telemetry.carrier()))

    async def _report_depths(self) -> None:
        if self._depths is None:
            return
        try:
            depths = await self._depths.depths()
        except StorageUnavailable as error:  # the repairs matter more than the gauge
            log.warning("sweep: queue depths unavailable: %s", error)
            return
        for queue, depth in depths.items():
            self._telemetry.gauge(QUEUE_DEPTH, depth, {"skillsync.queue": queue})
