"""NCRONTAB schedules: the next firing time, exactly, and refusal of invalid expressions."""

from datetime import UTC, datetime

import pytest

from adapters.ncrontab import CronSchedule
from devhost.timers import IntervalSchedule, parse_schedule


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.mark.parametrize(
    ("expression", "after", "expected"),
    [
        # every five seconds
        ("*/5 * * * * *", "2024-05-10 12:00:03", "2024-05-10 12:00:05"),
        ("*/5 * * * * *", "2024-05-10 12:00:05", "2024-05-10 12:00:10"),
        ("*/5 * * * * *", "2024-05-10 12:00:57", "2024-05-10 12:01:00"),
        ("*/5 * * * * *", "2024-12-31 23:59:59", "2025-01-01 00:00:00"),
        # weekdays at 09:30 (2024-05-10 is a Friday, 2024-05-13 a Monday)
        ("0 30 9 * * Mon-Fri", "2024-05-10 10:00:00", "2024-05-13 09:30:00"),
        ("0 30 9 * * Mon-Fri", "2024-05-13 09:29:59", "2024-05-13 09:30:00"),
        ("0 30 9 * * Mon-Fri", "2024-05-13 09:30:00", "2024-05-14 09:30:00"),
        ("0 30 9 * * 1-5", "2024-05-11 00:00:00", "2024-05-13 09:30:00"),
        # once a year, at midnight on New Year's Day
        ("0 0 0 1 Jan *", "2024-03-15 08:00:00", "2025-01-01 00:00:00"),
        ("0 0 0 1 Jan *", "2024-12-31 23:59:59", "2025-01-01 00:00:00"),
        ("0 0 0 1 1 *", "2025-01-01 00:00:00", "2026-01-01 00:00:00"),
        # lists and ranges
        ("0 0,30 8-10 * * *", "2024-05-10 09:10:00", "2024-05-10 09:30:00"),
        ("0 0,30 8-10 * * *", "2024-05-10 10:30:00", "2024-05-11 08:00:00"),
        ("15,45 * * * * *", "2024-05-10 12:00:15", "2024-05-10 12:00:45"),
        ("0 10-40/15 * * * *", "2024-05-10 12:26:00", "2024-05-10 12:40:00"),
        ("0 10-40/15 * * * *", "2024-05-10 12:40:00", "2024-05-10 13:10:00"),
        ("0 0 12 * Feb,Apr Sun", "2024-03-01 00:00:00", "2024-04-07 12:00:00"),
        ("0 0 0 * * Sun", "2024-03-29 00:00:00", "2024-03-31 00:00:00"),
        ("0 0 0 * * 0", "2024-03-29 00:00:00", "2024-03-31 00:00:00"),
        # day of month and month boundaries
        ("0 0 0 31 * *", "2024-04-01 00:00:00", "2024-05-31 00:00:00"),
        ("0 0 0 29 Feb *", "2024-03-01 00:00:00", "2028-02-29 00:00:00"),
        ("0 0 6 1 * *", "2024-05-31 07:00:00", "2024-06-01 06:00:00"),
    ],
)
def test_next_firing_time(expression: str, after: str, expected: str):
    assert CronSchedule(expression).next_after(at(after)) == at(expected)


def test_next_firing_time_ignores_fractions_of_a_second():
    moment = at("2024-05-10 12:00:04").replace(microsecond=999_999)

    assert CronSchedule("*/5 * * * * *").next_after(moment) == at("2024-05-10 12:00:05")


def test_next_firing_time_keeps_utc():
    assert CronSchedule("0 * * * * *").next_after(at("2024-05-10 12:00:00")).tzinfo is UTC


def test_names_are_case_insensitive():
    schedule = CronSchedule("0 0 0 * JAN MON")

    assert schedule.next_after(at("2024-01-02 00:00:00")) == at("2024-01-08 00:00:00")


@pytest.mark.parametrize(
    "expression",
    [
        "* * * * *",  # five fields: NCRONTAB needs seconds
        "* * * * * * *",
        "",
        "60 * * * * *",
        "* 60 * * * *",
        "* * 24 * * *",
        "* * * 0 * *",
        "* * * 32 * *",
        "* * * * 13 *",
        "* * * * * 7",
        "*/0 * * * * *",
        "5-1 * * * * *",
        "0 0 0 1 Foo *",
        "0 0 0 * * Funday",
        "abc * * * * *",
    ],
)
def test_invalid_expression_raises_value_error(expression: str):
    with pytest.raises(ValueError):  # noqa: PT011 - the message varies with the field
        CronSchedule(expression)


def test_schedule_that_never_fires_raises_value_error():
    schedule = CronSchedule("0 0 0 31 Feb *")

    with pytest.raises(ValueError, match="never fires"):
        schedule.next_after(at("2024-01-01 00:00:00"))


def test_timespan_schedule_runs_at_a_fixed_interval():
    schedule = parse_schedule("00:00:30")

    assert isinstance(schedule, IntervalSchedule)
    assert schedule.next_after(at("2024-05-10 12:00:00")) == at("2024-05-10 12:00:30")


def test_cron_expression_is_parsed_as_cron():
    assert isinstance(parse_schedule("0 */5 * * * *"), CronSchedule)


def test_zero_timespan_schedule_is_rejected():
    with pytest.raises(ValueError, match="must be positive"):
        parse_schedule("00:00:00")
