"""Read-only questions: one lesson, failed lessons, counts, queue depths, poisoned messages.

Listing lessons across learners is a cross-partition query, like the sweeper's ``find_stuck``:
fine for an operator now and then, never on a learner's request path.
"""

from collections import Counter
from datetime import UTC, datetime
from typing import Any

from azure.core.exceptions import ResourceNotFoundError
from azure.storage.queue.aio import QueueClient
from pydantic import ValidationError

from adapters.cosmos import storage_errors
from domain.ports import GenerationMessage
from ops.context import Ops

_FAILED = (
    "SELECT c.id, c.userId, c.roadmapId, c.title, c.generationError, c.lastError, c.diagnosis, "
    "c.deliveries, c.updatedAt FROM c WHERE c.generationStatus = 'failed'"
)
_STATS = "SELECT c.generationStatus, c.provider FROM c"
# Peek returns at most 32 messages (a Storage limit).
PEEK_LIMIT = 32


def since_text(moment: datetime) -> str:
    """``moment`` to the second, without a zone: a prefix of every stored time in that second.

    Stored times are ISO strings in UTC whose fractions and ``Z`` vary in length, so comparing
    against the whole-second prefix keeps string order equal to time order.
    """
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")


def _since_filter(query: str, since: datetime | None) -> tuple[str, list[dict[str, Any]]]:
    if since is None:
        return query, []
    joiner = " AND " if " WHERE " in query else " WHERE "
    return query + joiner + "c.updatedAt >= @since", [
        {"name": "@since", "value": since_text(since)}
    ]


async def failed(ops: Ops, since: datetime | None, limit: int) -> list[dict[str, Any]]:
    """Failed lessons across every learner, newest change first."""
    query, parameters = _since_filter(_FAILED, since)
    with storage_errors("lessons", "failed"):
        items = ops.container.query_items(query, parameters=parameters)
        rows = [item async for item in items]
    rows.sort(key=lambda row: str(row.get("updatedAt", "")), reverse=True)
    return rows[:limit]


async def stats(ops: Ops, since: datetime | None) -> dict[str, dict[str, int]]:
    """Lesson counts by generation status and by the provider that wrote them."""
    query, parameters = _since_filter(_STATS, since)
    by_status: Counter[str] = Counter()
    by_provider: Counter[str] = Counter()
    with storage_errors("lessons", "stats"):
        async for item in ops.container.query_items(query, parameters=parameters):
            by_status[str(item.get("generationStatus", "unknown"))] += 1
            if item.get("provider"):
                by_provider[str(item["provider"])] += 1
    return {
        "byStatus": dict(sorted(by_status.items())),
        "byProvider": dict(sorted(by_provider.items())),
    }


async def depth(queue: QueueClient) -> int | None:
    """The queue's approximate message count; ``None`` when the queue does not exist."""
    try:
        properties = await queue.get_queue_properties()
    except ResourceNotFoundError:
        return None
    return int(properties.approximate_message_count or 0)


async def depths(ops: Ops) -> dict[str, int | None]:
    """Approximate message counts of the generation queue and its poison queue."""
    return {
        ops.main_queue.queue_name: await depth(ops.main_queue),
        ops.poison_queue.queue_name: await depth(ops.poison_queue),
    }


def decode(content: object) -> GenerationMessage | None:
    """A message body as a ``GenerationMessage``, or ``None`` when it is not one."""
    try:
        return GenerationMessage.model_validate_json(str(content))
    except ValidationError:
        return None


async def poisoned(ops: Ops) -> list[dict[str, Any]]:
    """The first messages of the poison queue, peeked: they stay where they are."""
    try:
        peeked = await ops.poison_queue.peek_messages(max_messages=PEEK_LIMIT)
    except ResourceNotFoundError:
        return []
    rows = []
    for message in peeked:
        body = decode(message.content)
        rows.append(
            {
                "messageId": message.id,
                "lessonId": body.lesson_id if body else None,
                "userId": body.user_id if body else None,
                "requestedAt": body.requested_at.isoformat() if body else None,
                "dequeueCount": message.dequeue_count,
                "insertedOn": message.inserted_on.isoformat() if message.inserted_on else None,
                "readable": body is not None,
            }
        )
    return rows
