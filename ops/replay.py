"""Replaying poisoned messages: each lesson is re-queued by the app's rules, then its message goes.

Messages are received (hidden for ``HIDE_SECONDS``), not peeked, so each can be deleted; those
not replayed (another lesson's, unreadable, or hit by a storage error) are made visible again.
Replaying the same message twice queues its lesson once: the second time the lesson is already
queued, so ``requeue`` leaves it alone (see ``ops.requeue``).
"""

from dataclasses import dataclass
from typing import Any

from azure.core.exceptions import ResourceNotFoundError
from azure.storage.queue import QueueMessage

from domain.errors import NotFound, RetryableError
from domain.ports import GenerationMessage
from ops.bar import TextBar
from ops.context import Ops
from ops.queries import decode, depth
from ops.requeue import Outcome, requeue

# Long enough to settle one page of messages; a crashed run's messages reappear after it.
HIDE_SECONDS = 300
PAGE = 32


@dataclass(frozen=True)
class Replayed:
    """What happened to one poisoned message."""

    message_id: str
    lesson_id: str | None
    user_id: str | None
    outcome: str
    reason: str
    deleted: bool

    def row(self) -> dict[str, Any]:
        """The result as a JSON object."""
        return {
            "messageId": self.message_id,
            "lessonId": self.lesson_id,
            "userId": self.user_id,
            "outcome": self.outcome,
            "reason": self.reason,
            "deleted": self.deleted,
        }


async def replay(ops: Ops, lesson_id: str | None, bar: TextBar | None = None) -> list[Replayed]:
    """Replay every poisoned message (or only ``lesson_id``'s); return what each one did."""
    kept: list[QueueMessage] = []
    results: list[Replayed] = []
    try:
        pages = ops.poison_queue.receive_messages(
            messages_per_page=PAGE, visibility_timeout=HIDE_SECONDS
        )
        async for message in pages:
            if bar is not None:
                bar.advance()
            body = decode(message.content)
            if body is not None and lesson_id not in (None, body.lesson_id):
                kept.append(message)  # another lesson's: not ours to touch
                continue
            result = await _settle(ops, message, body)
            if not result.deleted:
                kept.append(message)
            results.append(result)
    except ResourceNotFoundError:
        return results  # no poison queue yet: nothing was ever poisoned
    finally:
        for message in kept:
            await ops.poison_queue.update_message(message, visibility_timeout=0)
    return results


async def _settle(ops: Ops, message: QueueMessage, body: GenerationMessage | None) -> Replayed:
    if body is None:
        return Replayed(message.id, None, None, "kept", "not a generation message", False)

    def done(outcome: str, reason: str, deleted: bool) -> Replayed:
        return Replayed(message.id, body.lesson_id, body.user_id, outcome, reason, deleted)

    try:
        lesson = await ops.lessons.get(body.user_id, body.lesson_id)
    except NotFound:
        await ops.poison_queue.delete_message(message)
        return done("dropped", "the lesson no longer exists", True)
    except RetryableError as error:
        return done("kept", f"could not read the lesson: {error}", False)
    try:
        result = await requeue(ops, lesson)
    except RetryableError as error:
        return done("kept", f"could not re-queue: {error}", False)
    # A completed or in-flight lesson needs nothing more: the message has done its part.
    outcome = "left" if result.outcome is Outcome.REFUSED else str(result.outcome)
    await ops.poison_queue.delete_message(message)
    return done(outcome, result.reason, True)


async def pending_count(ops: Ops) -> int:
    """How many messages a replay may go through (approximate)."""
    return await depth(ops.poison_queue) or 0
