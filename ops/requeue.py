"""Putting a lesson back on the queue by the app's own rules, so no lesson is written twice.

    status                          what happens
    failed                          ``LessonRequests.request(charge=False)``: queued, one message
    queued past STUCK_QUEUED_SECONDS,
    generating past its lease       the sweeper's repair: ``requeue`` saved, then one message
    completed                       refused: the learner may ask for a forced rewrite
    generating under a live lease,
    queued recently, pending        left alone: a worker, the sweeper or the learner acts on it

A repair saves first (an etag-conditional write) and sends only if that write won, so two
operators repairing at once send one message; a message that still fails to send leaves the
lesson ``queued``, which the sweeper re-sends after ``STUCK_QUEUED_SECONDS``.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from domain.base import utcnow
from domain.errors import ConcurrencyConflict, StorageUnavailable
from domain.lesson import GenerationStatus, Lesson
from domain.lesson_requests import message_for
from ops.context import Ops

S = GenerationStatus


class Outcome(StrEnum):
    """What a re-queue did to a lesson."""

    QUEUED = "queued"  # a failed lesson was requested again
    REPAIRED = "repaired"  # a stuck lesson was re-queued with a new message
    SAVED_UNSENT = "saved-unsent"  # repaired, but the message failed: the sweeper will send it
    LEFT = "left"  # nothing to do: in flight, recently queued, pending
    REFUSED = "refused"  # completed: not written again


@dataclass(frozen=True)
class Requeued:
    """The outcome for one lesson, why, and the lesson as it is now."""

    outcome: Outcome
    reason: str
    lesson: Lesson


def stuck(ops: Ops, lesson: Lesson, now: datetime) -> bool:
    """The sweeper's rule: generating past its lease, or queued longer than allowed."""
    queued_before = now - timedelta(seconds=ops.settings.stuck_queued_seconds)
    return lesson.stuck(now, queued_before)


async def requeue(ops: Ops, lesson: Lesson, now: datetime | None = None) -> Requeued:
    """Queue ``lesson`` again if it is failed or stuck; say why not otherwise."""
    now = now or utcnow()
    status = lesson.status
    if status is S.FAILED:
        after = await ops.requests.request(lesson.user_id, lesson.id, charge=False)
        if after.status is S.QUEUED:
            return Requeued(Outcome.QUEUED, "failed lesson requested again", after)
        return Requeued(Outcome.LEFT, f"it became {after.status} meanwhile", after)
    if status is S.COMPLETED:
        return Requeued(
            Outcome.REFUSED,
            "the lesson is completed; it is not written again (the learner may force a rewrite)",
            lesson,
        )
    if status is S.PENDING:
        return Requeued(Outcome.LEFT, "the lesson is pending: the learner has not asked", lesson)
    if not stuck(ops, lesson, now):
        return Requeued(Outcome.LEFT, _why_not_stuck(ops, lesson), lesson)
    return await _repair(ops, lesson)


def _why_not_stuck(ops: Ops, lesson: Lesson) -> str:
    if lesson.status is S.GENERATING and lesson.lease is not None:
        until = lesson.lease.expires_at.isoformat(timespec="seconds")
        return f"generating under a live lease ({lesson.lease.owner} until {until})"
    limit = int(ops.settings.stuck_queued_seconds)
    return f"queued less than STUCK_QUEUED_SECONDS ({limit} s) ago; its message may still come"


async def _repair(ops: Ops, lesson: Lesson) -> Requeued:
    was = lesson.status
    lesson.requeue()
    try:
        await ops.lessons.save(lesson)
    except ConcurrencyConflict:
        now = await ops.lessons.get(lesson.user_id, lesson.id)
        return Requeued(Outcome.LEFT, f"it changed meanwhile (now {now.status})", now)
    try:
        await ops.publisher.enqueue(message_for(lesson))
    except StorageUnavailable as error:
        reason = f"saved as queued, but the message failed ({error}); the sweeper will send it"
        return Requeued(Outcome.SAVED_UNSENT, reason, lesson)
    return Requeued(Outcome.REPAIRED, f"stuck {was} lesson re-queued", lesson)
