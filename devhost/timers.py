"""Timer triggers: NCRONTAB schedules (``{second} {minute} {hour} {day} {month} {day-of-week}``).

Each field takes ``*``, numbers, ranges ``a-b``, steps ``*/n`` or ``a-b/n``, lists ``a,b``, and
month or weekday names (``Jan``, ``Mon``). A TimeSpan (``hh:mm:ss``) runs at a fixed interval.
Times are UTC, as in Azure unless ``WEBSITE_TIME_ZONE`` is set (not supported here).
"""

import asyncio
import logging
from datetime import UTC, datetime, timedelta

from azure.functions.timer import TimerRequest

from devhost.functions import FunctionSpec
from devhost.hostconfig import parse_timespan
from devhost.invoke import Invoker

log = logging.getLogger("devhost.timers")

_MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
_DAYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]
# (low, high, names whose index + offset is the value)
_FIELDS = [
    (0, 59, [], 0),
    (0, 59, [], 0),
    (0, 23, [], 0),
    (1, 31, [], 0),
    (1, 12, _MONTHS, 1),
    (0, 6, _DAYS, 0),
]


def _value(text: str, names: list[str], offset: int) -> int:
    lowered = text.lower()
    return names.index(lowered) + offset if lowered in names else int(text)


def _field(text: str, low: int, high: int, names: list[str], offset: int) -> frozenset[int]:
    values: set[int] = set()
    for part in text.split(","):
        body, _, step_text = part.partition("/")
        step = int(step_text) if step_text else 1
        if body == "*":
            start, stop = low, high
        elif "-" in body:
            first, last = body.split("-", 1)
            start, stop = _value(first, names, offset), _value(last, names, offset)
        else:
            start = _value(body, names, offset)
            stop = high if step_text else start
        if step < 1 or not low <= start <= stop <= high:
            raise ValueError(f"{part!r} is outside {low}-{high}")
        values.update(range(start, stop + 1, step))
    return frozenset(values)


class CronSchedule:
    """A six-field NCRONTAB expression."""

    def __init__(self, expression: str) -> None:
        parts = expression.split()
        if len(parts) != 6:
            raise ValueError(
                f"NCRONTAB needs 6 fields (with seconds), got {len(parts)}: {expression!r}"
            )
        fields = [_field(part, *spec) for part, spec in zip(parts, _FIELDS, strict=True)]
        self.seconds, self.minutes, self.hours, self.days, self.months, self.weekdays = fields

    def next_after(self, moment: datetime) -> datetime:
        """The first matching time strictly after ``moment``."""
        t = moment.replace(microsecond=0) + timedelta(seconds=1)
        limit = t + timedelta(days=366 * 5)
        while t < limit:
            if t.month not in self.months:
                t = (t.replace(day=1) + timedelta(days=32)).replace(
                    day=1, hour=0, minute=0, second=0
                )
            elif t.day not in self.days or (t.weekday() + 1) % 7 not in self.weekdays:
                t = (t + timedelta(days=1)).replace(hour=0, minute=0, second=0)
            elif t.hour not in self.hours:
                t = (t + timedelta(hours=1)).replace(minute=0, second=0)
            elif t.minute not in self.minutes:
                t = (t + timedelta(minutes=1)).replace(second=0)
            elif t.second not in self.seconds:
                t += timedelta(seconds=1)
            else:
                return t
        raise ValueError("the schedule never fires")


class IntervalSchedule:
    """A TimeSpan schedule: every ``interval`` seconds."""

    def __init__(self, interval: float) -> None:
        self.interval = interval

    def next_after(self, moment: datetime) -> datetime:
        """``moment`` plus the interval."""
        return moment + timedelta(seconds=self.interval)


def parse_schedule(expression: str) -> CronSchedule | IntervalSchedule:
    """A schedule from a timer trigger's ``schedule`` value."""
    if ":" in expression and len(expression.split()) == 1:
        seconds = parse_timespan(expression)
        if not seconds:
            raise ValueError(f"a TimeSpan schedule must be positive: {expression!r}")
        return IntervalSchedule(seconds)
    return CronSchedule(expression)


class TimerRunner:
    """Fires one timer-triggered function on its schedule."""

    PAST_DUE_AFTER = timedelta(seconds=1)

    def __init__(self, spec: FunctionSpec, invoke: Invoker) -> None:
        self.spec = spec
        self.schedule = parse_schedule(str(spec.trigger["schedule"]))
        self._invoke = invoke

    async def run(self, stopping: asyncio.Event) -> None:
        """Invoke at each scheduled time (and at start-up if ``runOnStartup``) until stopped."""
        if self.spec.trigger.get("runOnStartup"):
            await self._fire(past_due=False)
        due = self.schedule.next_after(datetime.now(UTC))
        while not stopping.is_set():
            wait = (due - datetime.now(UTC)).total_seconds()
            try:
                await asyncio.wait_for(stopping.wait(), timeout=max(0.0, wait))
                return
            except TimeoutError:
                pass
            late = datetime.now(UTC) - due > self.PAST_DUE_AFTER
            await self._fire(past_due=late)
            due = self.schedule.next_after(max(due, datetime.now(UTC) - self.PAST_DUE_AFTER))

    async def _fire(self, *, past_due: bool) -> None:
        try:
            await self._invoke(self.spec, TimerRequest(past_due=past_due))
        except Exception:
            log.exception("timer function %s failed", self.spec.name)
