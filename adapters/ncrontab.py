"""NCRONTAB schedules, as Azure Functions timer triggers read them.

Six fields, ``{second} {minute} {hour} {day} {month} {day-of-week}``; each takes ``*``, numbers,
ranges ``a-b``, steps ``*/n`` or ``a-b/n``, lists ``a,b``, and month or weekday names (``Jan``,
``Mon``). Times are UTC, as in Azure unless ``WEBSITE_TIME_ZONE`` is set. Used to validate
``SWEEP_SCHEDULE`` at start-up and by the local host to fire timers.
https://learn.microsoft.com/azure/azure-functions/functions-bindings-timer#ncrontab-expressions
"""

from datetime import datetime, timedelta

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
