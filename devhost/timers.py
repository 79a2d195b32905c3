"""Timer triggers: NCRONTAB schedules (``adapters/ncrontab.py``) or a TimeSpan (``hh:mm:ss``), which
runs at a fixed interval. Times are UTC (``WEBSITE_TIME_ZONE`` is not supported here).
"""

import asyncio
import logging
from datetime import UTC, datetime, timedelta

from azure.functions.timer import TimerRequest

from adapters.ncrontab import CronSchedule
from devhost.functions import FunctionSpec
from devhost.hostconfig import parse_timespan
from devhost.invoke import Invoker

log = logging.getLogger("devhost.timers")


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
