"""Timings that cannot contradict each other or the host: refused at start-up, by name.

host.json is read as the Functions host reads it (``functionTimeout``, ``extensions.queues``,
overridden by ``AzureFunctionsJobHost__…`` settings), by the settings and the local host alike.
"""

import json
from pathlib import Path

import pytest

from adapters.host_json import HostLimits, QueueOptions
from adapters.ncrontab import CronSchedule
from adapters.settings import Settings, SettingsError, load_settings, settings_from
from devhost.hostconfig import HostConfig

BASE = {
    "AzureWebJobsStorage": "UseDevelopmentStorage=true",
    "COSMOS_ENDPOINT": "http://127.0.0.1:9",
    "AUTH_JWT_SECRET": "t" * 48,
    "SWEEP_SCHEDULE": "0 */1 * * * *",
}
TIMEOUT = "AzureFunctionsJobHost__functionTimeout"
QUEUES = "AzureFunctionsJobHost__extensions__queues__"


def _refusal(**values: str) -> str:
    with pytest.raises(SettingsError) as raised:
        load_settings({**BASE, **values})
    return str(raised.value)


def _settings(**values: str) -> Settings:
    return load_settings({**BASE, **values})


def test_the_projects_own_settings_and_host_json_agree():
    settings = _settings()

    assert settings.host == HostLimits.load()
    assert settings.host.function_timeout == 600.0  # host.json "00:10:00"


def test_lesson_and_research_budgets_must_fit_inside_the_function_timeout():
    message = _refusal(
        **{TIMEOUT: "00:01:17", "LLM_LESSON_BUDGET_SECONDS": "61", "RESEARCH_BUDGET_SECONDS": "7"}
    )

    assert "LLM_LESSON_BUDGET_SECONDS plus RESEARCH_BUDGET_SECONDS" in message
    assert "functionTimeout" in message
    assert "61" not in message
    assert "00:01:17" not in message


def test_budgets_that_leave_time_to_save_the_lesson_are_accepted():
    settings = _settings(
        **{TIMEOUT: "00:01:30", "LLM_LESSON_BUDGET_SECONDS": "61", "RESEARCH_BUDGET_SECONDS": "7"}
    )

    assert settings.host.function_timeout == 90.0


def test_an_unbounded_function_timeout_bounds_no_budget():
    settings = _settings(**{TIMEOUT: "-1", "LLM_LESSON_BUDGET_SECONDS": "600"})

    assert settings.host.function_timeout is None


def test_the_override_is_matched_case_insensitively_as_the_host_does():
    message = _refusal(AZUREFUNCTIONSJOBHOST__FUNCTIONTIMEOUT="00:00:30")

    assert "LLM_LESSON_BUDGET_SECONDS plus RESEARCH_BUDGET_SECONDS" in message


def test_an_unreadable_function_timeout_is_named():
    message = _refusal(**{TIMEOUT: "half an hour"})

    assert "AzureFunctionsJobHost__functionTimeout" in message
    assert "half an hour" not in message


@pytest.mark.parametrize("deadline", ["230", "287"])
def test_the_http_deadline_stays_under_the_platforms_http_limit(deadline: str):
    message = _refusal(HTTP_DEADLINE_SECONDS=deadline)

    assert "HTTP_DEADLINE_SECONDS must stay under the 230-second limit" in message
    assert "287" not in message


def test_the_http_deadline_stays_under_the_function_timeout():
    message = _refusal(
        **{TIMEOUT: "00:00:45", "HTTP_DEADLINE_SECONDS": "50", "LLM_LESSON_BUDGET_SECONDS": "20"}
    )

    assert message.endswith(
        "HTTP_DEADLINE_SECONDS must stay under functionTimeout (host.json, "
        "or AzureFunctionsJobHost__functionTimeout)"
    )


def test_an_http_deadline_just_under_the_limit_is_accepted():
    assert _settings(HTTP_DEADLINE_SECONDS="229").http_deadline_seconds == 229


SLOW_QUEUE = {  # worst-case pickup: 2 deliveries of (10 s polling + 20 s invisible) = 60 s
    f"{QUEUES}maxPollingInterval": "00:00:10",
    f"{QUEUES}visibilityTimeout": "00:00:20",
    f"{QUEUES}maxDequeueCount": "2",
}


def test_the_stuck_queued_bound_must_exceed_the_hosts_worst_case_pickup():
    message = _refusal(**SLOW_QUEUE, STUCK_QUEUED_SECONDS="60")

    assert "STUCK_QUEUED_SECONDS must exceed the host's worst-case pickup" in message
    for name in ("maxDequeueCount", "visibilityTimeout", "maxPollingInterval"):
        assert name in message


def test_a_stuck_queued_bound_past_the_pickup_is_accepted():
    settings = _settings(**SLOW_QUEUE, STUCK_QUEUED_SECONDS="61")

    assert settings.host.queues.longest_pickup == 60.0


def test_the_sweeper_must_run_more_often_than_the_lease():
    message = _refusal(SWEEP_SCHEDULE="0 */5 * * * *", GENERATION_LEASE_SECONDS="300")

    assert "SWEEP_SCHEDULE must run more often than GENERATION_LEASE_SECONDS" in message
    assert "300" not in message


def test_a_schedule_that_skips_the_weekend_is_refused_whatever_the_lease():
    message = _refusal(SWEEP_SCHEDULE="0 */1 * * * Mon-Fri", GENERATION_LEASE_SECONDS="3600")

    assert "SWEEP_SCHEDULE must run more often than GENERATION_LEASE_SECONDS" in message


def test_a_sweep_more_often_than_the_lease_is_accepted():
    settings = _settings(SWEEP_SCHEDULE="*/2 * * * * *", GENERATION_LEASE_SECONDS="3")

    assert settings.generation_lease_seconds == 3


def test_every_contradiction_is_named_at_once():
    message = _refusal(
        **SLOW_QUEUE,
        **{TIMEOUT: "00:00:30"},
        STUCK_QUEUED_SECONDS="5",
        HTTP_DEADLINE_SECONDS="240",
        GENERATION_LEASE_SECONDS="30",
    )

    problems = message.removeprefix("invalid or missing settings: ").split("; ")
    assert [problem.split()[0] for problem in problems] == [
        "LLM_LESSON_BUDGET_SECONDS",
        "HTTP_DEADLINE_SECONDS",
        "STUCK_QUEUED_SECONDS",
        "SWEEP_SCHEDULE",
    ]


# --- host.json itself, as the settings and the local host read it ---------------------------


def _host_json(tmp_path: Path, data: dict[str, object]) -> Path:
    path = tmp_path / "host.json"
    path.write_text(json.dumps(data))
    return path


def test_without_a_function_timeout_the_flex_consumption_default_applies(tmp_path: Path):
    path = _host_json(tmp_path, {"version": "2.0"})

    assert HostLimits.load(path, {}).function_timeout == 1800.0
    assert HostConfig.load(path, {}).function_timeout == 1800.0


@pytest.mark.parametrize(
    "environ",
    [{}, {TIMEOUT: "00:00:42"}, {TIMEOUT: "-1"}, {f"{QUEUES}maxDequeueCount": "3"}],
    ids=["as-written", "overridden", "unbounded", "queues"],
)
def test_the_local_host_honours_the_limits_the_settings_check(
    tmp_path: Path, environ: dict[str, str]
):
    path = _host_json(tmp_path, {"functionTimeout": "00:07:00", "extensions": {"queues": {}}})

    limits, config = HostLimits.load(path, environ), HostConfig.load(path, environ)

    assert (config.function_timeout, config.queues) == (limits.function_timeout, limits.queues)


def test_worst_case_pickup_counts_every_delivery():
    options = QueueOptions(max_polling_interval=2.0, visibility_timeout=5.0, max_dequeue_count=5)

    assert options.longest_pickup == 35.0


@pytest.mark.parametrize(
    ("expression", "gap"),
    [
        ("* * * * * *", 1),
        ("*/7 * * * * *", 7),  # 56 s, then 0 s of the next minute: 4 s; else 7 s
        ("0 */1 * * * *", 60),
        ("0 0,30 * * * *", 1800),
        ("0 0 9-17 * * *", 16 * 3600),  # 17:00, then 09:00 the next day
        ("0 0 0 * * Mon-Fri", 3 * 86_400),  # Friday to Monday
        ("0 0 0 29 Feb *", 8 * 365 * 86_400 + 86_400),  # 2096 to 2104: 2100 is no leap year
    ],
)
def test_the_longest_gap_between_runs_is_exact(expression: str, gap: int):
    assert CronSchedule(expression).longest_gap() == gap


def test_settings_from_values_read_host_json_overrides_only_from_them(
    monkeypatch: pytest.MonkeyPatch,
):
    monkeypatch.setenv(TIMEOUT, "00:00:05")  # the process's, not the values'

    assert settings_from(BASE).host.function_timeout == 600.0
