"""NCRONTAB schedules, as Azure Functions timer triggers read them.

Six fields, ``{second} {minute} {hour} {day} {month} {day-of-week}``; each takes ``*``, numbers,
ranges ``a-b``, steps ``*/n`` or ``a-b/n``, lists ``a,b``, and month or weekday names (``Jan``,
``Mon``). Times are UTC, as in Azure unless ``WEBSITE_TIME_ZONE`` is set. Used to validate
``SWEEP_SCHEDULE`` at start-up (and that it sweeps more often than a lease lasts) and by the
local host to fire timers.
https://learn.microsoft.com/azure/azure-functions/functions-bindings-timer#ncrontab-expressions
"""

import itertools
from datetime import date, datetime, timedelta

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
# The Gregorian calendar, weekdays included, repeats every 400 years (146,097 days = 20,871 weeks).
_CYCLE_DAYS = 146_097
_CYCLE_START = date(2000, 1, 1).toordinal()
_ALL_DAYS = frozenset(range(1, 32))
_ALL_MONTHS = frozenset(range(1, 13))
_ALL_WEEK = frozenset(range(7))


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

    def longest_gap(self) -> float:
        """The longest time, in seconds, between two consecutive runs, over the calendar's
        whole 400-year cycle (it is exact: no run is sampled)."""
        # Every firing day fires at the same times of day; what varies is which days fire.
        times = sorted(
            h * 3600 + m * 60 + s for h in self.hours for m in self.minutes for s in self.seconds
        )
        within = max((b - a for a, b in itertools.pairwise(times)), default=0)
        return float(max(within, self._most_days_apart() * 86_400 - times[-1] + times[0]))

    def _most_days_apart(self) -> int:
        """The most days between two consecutive firing days (1: it fires every day)."""
        if self.days >= _ALL_DAYS and self.months >= _ALL_MONTHS and self.weekdays >= _ALL_WEEK:
            return 1
        days = self._firing_days()
        if not days:
            raise ValueError("the schedule never fires")
        return max(b - a for a, b in zip(days, [*days[1:], days[0] + _CYCLE_DAYS], strict=True))

    def _firing_days(self) -> list[int]:
        """Ordinals of the days that fire, over one Gregorian cycle (weekdays included)."""
        found = []
        for ordinal in range(_CYCLE_START, _CYCLE_START + _CYCLE_DAYS):
            day = date.fromordinal(ordinal)
            weekday = day.isoweekday() % 7  # NCRONTAB: Sunday is 0
            if day.month in self.months and day.day in self.days and weekday in self.weekdays:
                found.append(ordinal)
        return found
