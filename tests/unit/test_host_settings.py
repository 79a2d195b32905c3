"""Settings the local host reads as Azure does: %AppSetting% in bindings, host.json overrides
from the environment, and local.settings.json topped up from the example."""

import json
from pathlib import Path
from typing import Any

import azure.functions as func
import pytest

from devhost import localsettings
from devhost.functions import discover
from devhost.hostconfig import HostConfig, QueueOptions

HOST_JSON = {
    "version": "2.0",
    "functionTimeout": "00:05:00",
    "extensions": {
        "http": {"routePrefix": "api"},
        "queues": {"batchSize": 16, "visibilityTimeout": "00:00:05", "maxPollingInterval": 2000},
    },
}


def _app_with_settings_in_its_bindings() -> func.FunctionApp:
    app = func.FunctionApp()

    @app.queue_trigger(arg_name="msg", queue_name="%INBOX_QUEUE%", connection="Storage")
    async def read_inbox(msg: func.QueueMessage) -> None:
        """A queue named by a setting."""

    @app.timer_trigger(schedule="%TICK_SCHEDULE%", arg_name="timer")
    async def tick(timer: func.TimerRequest) -> None:
        """A schedule named by a setting."""

    @app.queue_trigger(arg_name="msg", queue_name="lessons-%STAGE%-poison", connection="Storage")
    async def read_poison(msg: func.QueueMessage) -> None:
        """A queue name with a setting inside it."""

    return app


def test_setting_expressions_in_queue_names_and_schedules_are_resolved():
    environ = {"INBOX_QUEUE": "inbox-7", "TICK_SCHEDULE": "*/5 * * * * *", "STAGE": "dev"}

    specs = {
        spec.name: spec.trigger for spec in discover(_app_with_settings_in_its_bindings(), environ)
    }

    assert specs["read_inbox"]["queueName"] == "inbox-7"
    assert specs["tick"]["schedule"] == "*/5 * * * * *"
    assert specs["read_poison"]["queueName"] == "lessons-dev-poison"
    assert specs["read_inbox"]["connection"] == "Storage"


def test_setting_expressions_are_read_from_the_process_environment_by_default(
    monkeypatch: pytest.MonkeyPatch,
):
    monkeypatch.setenv("INBOX_QUEUE", "from-the-environment")
    monkeypatch.setenv("TICK_SCHEDULE", "0 0 * * * *")
    monkeypatch.setenv("STAGE", "ci")

    specs = {spec.name: spec.trigger for spec in discover(_app_with_settings_in_its_bindings())}

    assert specs["read_inbox"]["queueName"] == "from-the-environment"


def test_missing_setting_is_refused_by_name():
    environ = {"INBOX_QUEUE": "inbox-7", "STAGE": "dev"}

    with pytest.raises(RuntimeError, match="%TICK_SCHEDULE%"):
        discover(_app_with_settings_in_its_bindings(), environ)


def _host_json(tmp_path: Path, data: dict[str, Any] = HOST_JSON) -> Path:
    path = tmp_path / "host.json"
    path.write_text(json.dumps(data))
    return path


def test_environment_overrides_host_json_queue_options_case_insensitively(tmp_path: Path):
    environ = {
        "AzureFunctionsJobHost__extensions__queues__visibilityTimeout": "00:00:01",
        "AZUREFUNCTIONSJOBHOST__EXTENSIONS__QUEUES__BATCHSIZE": "4",
        "UNRELATED_SETTING": "ignored",
    }

    config = HostConfig.load(_host_json(tmp_path), environ)

    assert config.queues == QueueOptions(
        batch_size=4,
        new_batch_threshold=2,
        max_polling_interval=2.0,
        visibility_timeout=1.0,
        max_dequeue_count=5,
        message_encoding="base64",
    )
    assert config.route_prefix == "api"


def test_host_json_is_used_as_written_without_overrides(tmp_path: Path):
    config = HostConfig.load(_host_json(tmp_path), {})

    assert (config.queues.batch_size, config.queues.visibility_timeout) == (16, 5.0)
    assert config.function_timeout == 300.0


def test_override_creates_a_section_host_json_does_not_have(tmp_path: Path):
    environ = {
        "AzureFunctionsJobHost__extensions__queues__maxDequeueCount": "2",
        "AzureFunctionsJobHost__functionTimeout": "00:00:30",
    }

    config = HostConfig.load(_host_json(tmp_path, {"version": "2.0"}), environ)

    assert config.queues.max_dequeue_count == 2
    assert config.queues.batch_size == 16
    assert config.function_timeout == 30.0


def _project(tmp_path: Path, example: dict[str, str], settings: dict[str, str] | None) -> Path:
    (tmp_path / localsettings.EXAMPLE_FILE).write_text(json.dumps({"Values": example}))
    if settings is not None:
        (tmp_path / localsettings.SETTINGS_FILE).write_text(json.dumps({"Values": settings}))
    return tmp_path


EXAMPLE = {
    "COSMOS_DATABASE": "skillsync",
    "LOG_LEVEL": "INFO",
    "AUTH_JWT_SECRET": "",
    "SWEEP_SCHEDULE": "0 */1 * * * *",
}


def test_settings_missing_from_an_older_local_settings_file_come_from_the_example(
    tmp_path: Path,
):
    older = {"COSMOS_DATABASE": "mine", "LOG_LEVEL": "INFO", "AUTH_JWT_SECRET": "s3cret"}
    project = _project(tmp_path, EXAMPLE, older)
    written = (project / localsettings.SETTINGS_FILE).read_text()
    environ = {"LOG_LEVEL": "DEBUG"}

    localsettings.apply(project, environ)

    assert environ == {
        "COSMOS_DATABASE": "mine",  # the file wins over the example
        "LOG_LEVEL": "DEBUG",  # the environment wins over both
        "AUTH_JWT_SECRET": "s3cret",
        "SWEEP_SCHEDULE": "0 */1 * * * *",  # new since the file was written
    }
    assert (project / localsettings.SETTINGS_FILE).read_text() == written


def test_a_generated_secret_is_never_taken_from_the_example_but_made_anew(tmp_path: Path):
    project = _project(tmp_path, {**EXAMPLE, "AUTH_JWT_SECRET": "from-the-example"}, {})
    environ: dict[str, str] = {}

    localsettings.apply(project, environ)

    assert environ["AUTH_JWT_SECRET"] != "from-the-example"
    assert len(environ["AUTH_JWT_SECRET"]) >= 32
    assert environ["SWEEP_SCHEDULE"] == "0 */1 * * * *"


def test_a_copy_of_the_example_with_an_empty_secret_gets_one_generated_and_kept(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    project = _project(tmp_path, EXAMPLE, dict(EXAMPLE))  # cp local.settings.json.example …
    first: dict[str, str] = {}
    again: dict[str, str] = {}

    localsettings.apply(project, first)
    localsettings.apply(project, again)

    assert len(first["AUTH_JWT_SECRET"]) >= 32
    assert again["AUTH_JWT_SECRET"] == first["AUTH_JWT_SECRET"]  # written once, then reused
    assert "updated local.settings.json" in capsys.readouterr().out


def test_missing_local_settings_file_is_created_from_the_example_with_a_fresh_secret(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    project = _project(tmp_path, EXAMPLE, None)
    environ: dict[str, str] = {}

    localsettings.apply(project, environ)

    created = localsettings.values(project / localsettings.SETTINGS_FILE)
    assert len(environ["AUTH_JWT_SECRET"]) >= 32
    assert created == environ
    assert "created local.settings.json" in capsys.readouterr().out
