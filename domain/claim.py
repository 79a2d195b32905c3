"""A worker's hold on one lesson while it writes it: progress writes, heartbeats, the final save.

    claim ──start──▶ generating, lease = now + L
      │  every L/3, for as long as the work runs (research, each provider call, streaming):
      │      renew the lease: a patch conditional on the stored version
      │        ├─ written            → the lease runs L more
      │        ├─ 412 / 404          → the claim is lost: the work is cancelled, nothing written
      │        └─ storage blip       → tried again at the next beat
      └─ final save (retried through blips until the function's time runs out)

A live worker therefore never loses its lesson to the sweeper, whatever the lease, and a worker
that did lose it (it stalled past its lease, or the learner removed the lesson) stops before it
calls another provider. Every write of the claim goes through one lock, so a heartbeat never
interleaves with a progress write or the final save, and each starts from the version the last
one stored.
"""

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine
from datetime import datetime, timedelta
from typing import Any, TypeVar

from domain.errors import ConcurrencyConflict, NotFound, StorageUnavailable
from domain.lesson import GenerationStatus, Lesson, Stage
from domain.live import LiveLesson
from domain.ports import LessonRepository

log = logging.getLogger(__name__)
T = TypeVar("T")

BEATS_PER_LEASE = 3  # a lease survives two lost heartbeats in a row
SAVE_PAUSE = (0.2, 5.0)  # first and longest pause between attempts of the final save


def _writing_percent(sections: int, objectives: int) -> int:
    """30 % when writing starts, up to 90 % as sections are shown (about one per objective)."""
    expected = max(objectives, 3, sections + 1)
    return 30 + 60 * sections // expected


class ClaimLost(Exception):
    """Another delivery took the lesson over, or it was removed: this worker writes nothing."""


class Claim:
    """One claimed lesson and the writes that keep and finish the claim (see the module)."""

    def __init__(
        self,
        lessons: LessonRepository,
        lesson: Lesson,
        *,
        lease: timedelta,
        clock: Callable[[], datetime],
        monotonic: Callable[[], float],
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        """``lesson`` was just claimed (stored as ``generating`` at ``lesson.version``)."""
        self.lesson = lesson
        # The answer being written, while there is one: heartbeats store what it has shown.
        self.live: LiveLesson | None = None
        self.renewals = 0
        self.lost = False
        self._lessons = lessons
        self._lease = lease
        self._clock = clock
        self._monotonic = monotonic
        self._sleep = sleep
        self._lock = asyncio.Lock()
        self._finished = False
        # What progress writes patch from: the lesson as a generation under way, whatever the
        # copy in hand has become (``complete`` clears the lease before the final save).
        self._state = lesson.model_copy(deep=True)

    @property
    def interval(self) -> float:
        """Seconds between heartbeats."""
        return self._lease.total_seconds() / BEATS_PER_LEASE

    async def advance(self, stage: Stage, percent: int) -> None:
        """Store a new stage (and renew the lease); ``ConcurrencyConflict`` if the claim is lost."""
        await self._write_progress(stage, percent)

    async def renew(self) -> None:
        """Renew the lease, keeping the stage; while an answer is shown as it is written, store
        the sections shown so far, and a percent that follows them."""
        progress = self._state.progress
        await self._write_progress(progress.stage, progress.percent, self.live)

    async def _write_progress(
        self, stage: Stage, percent: int, live: LiveLesson | None = None
    ) -> None:
        async with self._lock:
            if self._finished:
                return
            state = self._state
            state.version = self.lesson.version
            lease_until = self._clock() + self._lease
            if live is None:
                state.report(stage, percent, lease_until=lease_until)
            else:
                shown = len(live.sections)
                percent = max(percent, _writing_percent(shown, len(state.objectives)))
                state.report(
                    stage,
                    percent,
                    lease_until=lease_until,
                    sections=live.sections,
                    sequence=live.sequence,
                )
            await self._lessons.report_progress(state)
            self.lesson.version = state.version
            self.lesson.progress = state.progress
            self.lesson.lease = state.lease
            self.lesson.updated_at = state.updated_at

    async def run(self, work: Coroutine[Any, Any, T]) -> T:
        """Run ``work`` with heartbeats; ``ClaimLost`` (work cancelled) if the claim is lost."""
        task = asyncio.ensure_future(work)
        beats = asyncio.create_task(self._beat(task))
        try:
            return await task
        except asyncio.CancelledError:
            if self.lost and task.cancelled():
                current = asyncio.current_task()
                if current is None or not current.cancelling():
                    raise ClaimLost(f"lesson {self.lesson.id} was taken over or removed") from None
            raise
        finally:
            beats.cancel()
            await asyncio.gather(beats, return_exceptions=True)

    async def _beat(self, work: "asyncio.Future[Any]") -> None:
        while not work.done():
            await self._sleep(self.interval)
            try:
                await self.renew()
            except (ConcurrencyConflict, NotFound):
                log.warning("lesson %s: claim lost; stopping its work", self.lesson.id)
                self.lost = True
                work.cancel()
                return
            except Exception as error:  # a blip: the lease has two more beats before it runs out
                log.warning(
                    "lesson %s: lease not renewed (%s); trying at the next beat",
                    self.lesson.id,
                    type(error).__name__,
                )
            else:
                self.renewals += 1

    async def finish(self, until: float) -> None:
        """Store the lesson in hand (completed or failed), retrying storage blips until
        ``until`` (on the ``monotonic`` clock); no heartbeat writes after it.

        A save whose answer was lost may have been stored (and retried, by us or by the client
        library): a conflict is checked against the stored copy and counts as done when that
        copy is this very write.
        """
        async with self._lock:
            self._finished = True
            lesson, pause = self.lesson, SAVE_PAUSE[0]
            while True:
                try:
                    await self._lessons.save(lesson)
                    return
                except ConcurrencyConflict:
                    # The client library may have retried a write whose answer it lost, too.
                    if await self._stored_already(lesson):
                        return
                    raise
                except StorageUnavailable as error:
                    wait = max(pause, error.retry_after or 0.0)
                    if self._monotonic() + wait >= until:
                        raise
                    log.warning(
                        "lesson %s: save failed (%s); again in %.1f s", lesson.id, error, wait
                    )
                    await self._sleep(wait)
                    pause = min(pause * 2, SAVE_PAUSE[1])

    async def _stored_already(self, lesson: Lesson) -> bool:
        stored = await self._lessons.get(lesson.user_id, lesson.id)
        ours = stored.status is lesson.status and stored.updated_at == lesson.updated_at
        if ours and stored.status is not GenerationStatus.GENERATING:
            lesson.version = stored.version
            log.info("lesson %s: the save whose answer was lost had been stored", lesson.id)
            return True
        return False
