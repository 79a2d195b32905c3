"""One function per command: it asks ``ops.queries``/``ops.requeue``/``ops.replay`` and words
the answer as a ``Report`` (data for ``--json``, text for people, the exit code)."""

import argparse
import sys
from dataclasses import dataclass
from typing import Any

from domain.errors import NotFound
from ops import queries, render
from ops.bar import TextBar
from ops.context import Ops
from ops.replay import pending_count, replay
from ops.requeue import Outcome, requeue

EXIT_OK = 0
EXIT_FAILED = 1


@dataclass(frozen=True)
class Report:
    """What a command found or did, as data and as text, and the exit code."""

    data: Any
    text: str
    code: int = EXIT_OK


def not_found(error: NotFound) -> Report:
    """The report for a lesson (or user) that does not exist."""
    return Report({"error": "not found", "detail": str(error)}, f"not found: {error}", EXIT_FAILED)


async def lesson_show(ops: Ops, args: argparse.Namespace) -> Report:
    """``lesson show ID --user U``."""
    try:
        lesson = await ops.lessons.get(args.user, args.lesson)
    except NotFound as error:
        return not_found(error)
    return Report(render.lesson_data(lesson), render.lesson_text(lesson))


async def lessons_failed(ops: Ops, args: argparse.Namespace) -> Report:
    """``lessons failed [--since] [--limit]``."""
    rows = await queries.failed(ops, args.since, args.limit)
    columns = ["updatedAt", "id", "userId", "deliveries", "generationError"]
    text = render.table(rows, columns) if rows else "no failed lessons"
    return Report(rows, text)


async def stats(ops: Ops, args: argparse.Namespace) -> Report:
    """``stats [--since]``."""
    counts = await queries.stats(ops, args.since)
    status_rows = [{"status": k, "lessons": v} for k, v in counts["byStatus"].items()]
    provider_rows = [{"provider": k, "lessons": v} for k, v in counts["byProvider"].items()]
    if not status_rows:
        return Report(counts, "no lessons")
    by_provider = render.table(provider_rows, ["provider", "lessons"])
    text = render.table(status_rows, ["status", "lessons"]) + "\n\n"
    text += by_provider if provider_rows else "no lesson was written by a provider yet"
    return Report(counts, text)


async def queue_depth(ops: Ops, args: argparse.Namespace) -> Report:
    """``queue depth``."""
    counts = await queries.depths(ops)
    rows = [{"queue": name, "messages": count} for name, count in counts.items()]
    text = render.table(rows, ["queue", "messages"])
    return Report(counts, text + "\n(approximate counts; '-' is a queue that does not exist)")


async def poison_list(ops: Ops, args: argparse.Namespace) -> Report:
    """``poison list``: peeked, never removed."""
    rows = await queries.poisoned(ops)
    if not rows:
        return Report(rows, "the poison queue is empty")
    columns = ["messageId", "lessonId", "userId", "requestedAt", "dequeueCount"]
    text = render.table(rows, columns)
    if len(rows) == queries.PEEK_LIMIT:
        text += f"\n(the first {queries.PEEK_LIMIT}; `queue depth` counts them all)"
    return Report(rows, text)


async def poison_replay(ops: Ops, args: argparse.Namespace) -> Report:
    """``poison replay --all | ID``."""
    bar = TextBar(await pending_count(ops), sys.stderr, "replaying")
    try:
        results = await replay(ops, None if args.all else args.lesson, bar)
    finally:
        bar.close()
    rows = [result.row() for result in results]
    if not rows:
        return Report(rows, "nothing to replay")
    kept = sum(not result.deleted for result in results)
    text = render.table(rows, ["lessonId", "userId", "outcome", "reason"])
    text += f"\n{len(rows) - kept} replayed and deleted, {kept} kept in the poison queue"
    return Report(rows, text, EXIT_FAILED if kept else EXIT_OK)


async def requeue_lesson(ops: Ops, args: argparse.Namespace) -> Report:
    """``requeue LESSON --user U``."""
    try:
        lesson = await ops.lessons.get(args.user, args.lesson)
    except NotFound as error:
        return not_found(error)
    result = await requeue(ops, lesson)
    data = {"lessonId": lesson.id, "outcome": result.outcome, "reason": result.reason}
    data["status"] = result.lesson.status
    ok = result.outcome in (Outcome.QUEUED, Outcome.REPAIRED, Outcome.SAVED_UNSENT)
    text = f"{result.outcome}: {result.reason} (status now {result.lesson.status})"
    return Report(data, text, EXIT_OK if ok else EXIT_FAILED)
