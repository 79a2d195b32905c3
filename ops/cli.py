"""``python -m ops``: arguments, settings, and the exit code.

Exit codes: 0 done; 1 not found, refused, or some messages kept; 2 a bad argument or setting.
"""

import argparse
import asyncio
import re
import sys
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, TypeAlias

from azure.core.exceptions import AzureError

from adapters.queue import LESSON_GENERATION_QUEUE
from adapters.settings import Settings, SettingsError
from domain.base import utcnow
from domain.errors import SkillSyncError
from ops import commands, render
from ops.context import Ops, connect, read_settings

Command = Callable[[Ops, argparse.Namespace], Awaitable[commands.Report]]
EXIT_USAGE = 2
if TYPE_CHECKING:  # generic only to type checkers; at run time it is not subscriptable
    Group: TypeAlias = argparse._SubParsersAction[argparse.ArgumentParser]
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def since(text: str, now: datetime | None = None) -> datetime:
    """``24h``, ``30m``, ``7d`` ago, or an ISO 8601 time (UTC when it names no zone)."""
    match = re.fullmatch(r"(\d+)([smhdw])", text.strip())
    if match:
        amount, unit = match.groups()
        return (now or utcnow()) - timedelta(**{_UNITS[unit]: int(amount)})
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a duration (24h, 30m, 7d) or an ISO 8601 time"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive whole number")
    return int(text)


# --json after the command works too; SUPPRESS keeps it from resetting the global one.
_COMMON = argparse.ArgumentParser(add_help=False)
_COMMON.add_argument("--json", action="store_true", default=argparse.SUPPRESS)


def _command(group: "Group", name: str, run: Command, text: str) -> argparse.ArgumentParser:
    found = group.add_parser(name, parents=[_COMMON], help=text, description=text)
    found.set_defaults(run=run)
    return found


def _group(sub: "Group", name: str, text: str) -> "Group":
    return sub.add_parser(name, help=text).add_subparsers(dest="what", required=True)


def parser() -> argparse.ArgumentParser:
    """The command line: global options, then a command."""
    top = argparse.ArgumentParser(
        prog="python -m ops",
        description="Inspect and repair lesson generation with the app's own settings.",
        epilog="Exit codes: 0 done; 1 not found, refused or messages kept; 2 bad argument.",
    )
    top.add_argument("--json", action="store_true", help="print JSON for scripts")
    top.add_argument("--settings", type=Path, help="a local.settings.json whose Values are used")
    top.add_argument("--queue", default=LESSON_GENERATION_QUEUE, help=argparse.SUPPRESS)
    sub = top.add_subparsers(dest="command", required=True, metavar="COMMAND")
    show = _command(
        _group(sub, "lesson", "one lesson"),
        "show",
        commands.lesson_show,
        "a lesson's status, progress, lease, deliveries, attempts and errors",
    )
    show.add_argument("lesson", metavar="ID")
    show.add_argument("--user", required=True, help="the learner's user id (partition key)")
    failed = _command(
        _group(sub, "lessons", "lessons of every learner"),
        "failed",
        commands.lessons_failed,
        "failed lessons, newest first",
    )
    failed.add_argument("--since", type=since, help="24h, 30m, 7d, or an ISO 8601 time")
    failed.add_argument("--limit", type=_positive, default=100, help="at most this many")
    _command(
        _group(sub, "queue", "the generation queue"),
        "depth",
        commands.queue_depth,
        "approximate message counts of the queue and its poison queue",
    )
    poison = _group(sub, "poison", "the poison queue")
    _command(poison, "list", commands.poison_list, "poisoned messages, peeked, not removed")
    replay = _command(
        poison,
        "replay",
        commands.poison_replay,
        "re-queue poisoned lessons by the app's rules, then delete the messages",
    )
    which = replay.add_mutually_exclusive_group(required=True)
    which.add_argument("--all", action="store_true", help="every poisoned message")
    which.add_argument("lesson", metavar="ID", nargs="?", help="only this lesson's messages")
    requeue = _command(
        sub,
        "requeue",
        commands.requeue_lesson,
        "queue a failed or stuck lesson again (never a completed one)",
    )
    requeue.add_argument("lesson", metavar="LESSON")
    requeue.add_argument("--user", required=True, help="the learner's user id (partition key)")
    stats = _command(sub, "stats", commands.stats, "lessons by status and by provider")
    stats.add_argument("--since", type=since, help="changed since: 24h, 7d, or an ISO 8601 time")
    return top


def main(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None) -> int:
    """Run one command; ``environ`` replaces the process environment (tests)."""
    args = parser().parse_args(argv)  # exits 2 with a message on a bad argument
    try:
        settings = read_settings(environ, args.settings)
    except (SettingsError, OSError, ValueError) as error:
        print(f"ops: {error}", file=sys.stderr)
        return EXIT_USAGE
    try:
        report = asyncio.run(_run(settings, args))
    except (SkillSyncError, AzureError) as error:  # unreachable, throttled, refused, signed out
        print(f"ops: {type(error).__name__}: {error}", file=sys.stderr)
        return commands.EXIT_FAILED
    print(render.to_json(report.data) if args.json else report.text)
    return report.code


async def _run(settings: Settings, args: argparse.Namespace) -> commands.Report:
    async with connect(settings, args.queue) as ops:
        run: Command = args.run
        return await run(ops, args)
