"""Start-up as the Functions host does it: importing ``function_app`` validates every setting."""

import json
import os
import subprocess
import sys

from tests.conftest import PROCESS_SETTINGS, ROOT

# Neither language-model code nor the telemetry exporter loads unless it is needed.
LLM_MODULES = (
    "adapters.llm",
    "adapters.research.",
    "groq",
    "google.genai",
    "openai",
    "azure.monitor",
)
REPORT = f"""
import json, sys
import function_app
print(json.dumps(sorted(m for m in sys.modules if m.startswith({LLM_MODULES!r}))))
"""


def _import_app(**settings: str) -> subprocess.CompletedProcess[str]:
    """``import function_app`` in a fresh interpreter that sees only ``settings``."""
    environment = {k: v for k, v in os.environ.items() if k not in PROCESS_SETTINGS}
    return subprocess.run(
        [sys.executable, "-c", REPORT],
        cwd=ROOT,
        env={**environment, **settings},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_a_missing_and_an_invalid_setting_stop_the_import_naming_both() -> None:
    settings = {k: v for k, v in PROCESS_SETTINGS.items() if k != "COSMOS_ENDPOINT"}

    result = _import_app(**settings, COSMOS_TIMEOUT_SECONDS="abc")

    assert result.returncode != 0
    last_line = result.stderr.strip().splitlines()[-1]
    assert "COSMOS_ENDPOINT: Field required" in last_line
    assert "COSMOS_TIMEOUT_SECONDS: Input should be a valid number" in last_line
    assert "abc" not in last_line.replace("COSMOS_", "")


def test_timings_that_contradict_the_host_stop_the_import_naming_the_settings() -> None:
    result = _import_app(
        **PROCESS_SETTINGS,
        GENERATION_LEASE_SECONDS="45",  # the sweeper runs every minute
        AzureFunctionsJobHost__functionTimeout="00:01:00",  # budgets of 90 s + 6 s by default
    )

    assert result.returncode == 1
    last_line = result.stderr.strip().splitlines()[-1]
    assert "SWEEP_SCHEDULE must run more often than GENERATION_LEASE_SECONDS" in last_line
    assert "LLM_LESSON_BUDGET_SECONDS plus RESEARCH_BUDGET_SECONDS" in last_line
    assert "45" not in last_line
    assert "00:01:00" not in last_line


def test_a_secret_left_as_a_key_vault_reference_stops_the_import() -> None:
    reference = "@Microsoft.KeyVault(VaultName=kv-prod;SecretName=jwt)"

    result = _import_app(**{**PROCESS_SETTINGS, "AUTH_JWT_SECRET": reference})

    assert result.returncode != 0
    assert "AUTH_JWT_SECRET: is an unresolved Key Vault reference" in result.stderr
    assert "kv-prod" not in result.stderr


def test_valid_settings_import_the_app_without_any_language_model_code() -> None:
    result = _import_app(**PROCESS_SETTINGS)

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == []


TELEMETRY = """
import function_app
from opentelemetry import metrics, trace
from functions import bootstrap
print(type(bootstrap.current_application().shared.telemetry).__name__)
print(type(trace.get_tracer_provider()).__name__, type(metrics.get_meter_provider()).__name__)
"""


def test_a_connection_string_sends_telemetry_to_application_insights() -> None:
    connection = (
        "InstrumentationKey=00000000-0000-0000-0000-000000000000;"
        "IngestionEndpoint=http://127.0.0.1:9/"
    )
    environment = {k: v for k, v in os.environ.items() if k not in PROCESS_SETTINGS}
    result = subprocess.run(
        [sys.executable, "-c", TELEMETRY],
        cwd=ROOT,
        env={
            **environment,
            **PROCESS_SETTINGS,
            "APPLICATIONINSIGHTS_CONNECTION_STRING": connection,
        },
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert lines[-2:] == ["OpenTelemetryReporter", "TracerProvider MeterProvider"]
    assert "00000000-0000-0000-0000-000000000000" not in result.stdout + result.stderr
