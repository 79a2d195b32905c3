"""``python -m ops`` without any service: arguments, times, settings files, tables, the bar."""

import argparse
import io
import json
from datetime import UTC, datetime, timedelta

import pytest

from ops.bar import TextBar, render
from ops.cli import parser, since
from ops.context import poison_name, read_settings
from ops.queries import since_text
from ops.render import table

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
ENV = {
    "AzureWebJobsStorage": "UseDevelopmentStorage=true",
    "COSMOS_ENDPOINT": "http://127.0.0.1:9",
    "COSMOS_KEY": "not-a-key",
    "SWEEP_SCHEDULE": "0 */1 * * * *",
    "AUTH_JWT_SECRET": "s" * 48,
}


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("24h", NOW - timedelta(hours=24)),
        ("30m", NOW - timedelta(minutes=30)),
        ("7d", NOW - timedelta(days=7)),
        ("2026-02-01T08:00:00", datetime(2026, 2, 1, 8, tzinfo=UTC)),
        ("2026-02-01T08:00:00+02:00", datetime(2026, 2, 1, 6, tzinfo=UTC)),
    ],
)
def test_since_reads_durations_and_iso_times(text, expected):
    assert since(text, now=NOW) == expected


@pytest.mark.parametrize("text", ["yesterday", "24", "h", "-3h", "2026-13-01"])
def test_a_malformed_since_is_an_argument_error(text):
    with pytest.raises(argparse.ArgumentTypeError, match="ISO 8601"):
        since(text, now=NOW)


def test_since_text_is_a_prefix_of_every_stored_time_in_that_second():
    moment = datetime(2026, 3, 1, 12, 0, 5, 250_000, tzinfo=UTC)
    assert since_text(moment) == "2026-03-01T12:00:05"
    assert since_text(moment) <= "2026-03-01T12:00:05Z"
    assert since_text(moment) <= "2026-03-01T12:00:05.000001Z"
    assert since_text(moment) > "2026-03-01T12:00:04.999999Z"


def test_json_is_accepted_before_or_after_the_command():
    assert parser().parse_args(["--json", "queue", "depth"]).json
    assert parser().parse_args(["queue", "depth", "--json"]).json
    assert not parser().parse_args(["queue", "depth"]).json


def test_replay_takes_all_or_one_lesson():
    assert parser().parse_args(["poison", "replay", "--all"]).all
    assert parser().parse_args(["poison", "replay", "lesson-1"]).lesson == "lesson-1"


def test_the_poison_queue_is_named_as_the_functions_host_names_it():
    assert poison_name("lesson-generation") == "lesson-generation-poison"
    assert poison_name("ops-test") == "ops-test-poison"


def test_a_settings_file_wins_over_the_environment(tmp_path):
    path = tmp_path / "local.settings.json"
    values = {"COSMOS_DATABASE": "from-file", "STUCK_QUEUED_SECONDS": 30}
    path.write_text(json.dumps({"IsEncrypted": False, "Values": values}))
    settings = read_settings({**ENV, "COSMOS_DATABASE": "from-env"}, path)
    assert settings.cosmos_database == "from-file"
    assert settings.stuck_queued_seconds == 30
    assert read_settings(ENV, None).cosmos_database == "skillsync"


def test_tables_align_their_columns():
    rows: list[dict[str, object]] = [
        {"queue": "lesson-generation", "messages": 12},
        {"queue": "x", "messages": None},
    ]
    assert table(rows, ["queue", "messages"]).splitlines() == [
        "queue              messages",
        "-----------------  --------",
        "lesson-generation  12",
        "x                  -",
    ]


def test_the_bar_is_drawn_on_a_terminal_only():
    terminal, piped = _Terminal(), io.StringIO()
    for stream in (terminal, piped):
        bar = TextBar(4, stream, "replaying")
        bar.advance()
        bar.advance()
        bar.close()
    assert terminal.getvalue().endswith("\r" + render(2, 4, "replaying") + "\n")
    assert piped.getvalue() == ""


def test_the_bar_never_overflows_an_approximate_total():
    assert render(2, 4) == "[" + "#" * 15 + "." * 15 + "] 2/4"
    assert render(5, 3) == "[" + "#" * 30 + "] 5/5"
