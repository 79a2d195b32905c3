"""Schemathesis against the running host: generated requests from /api/openapi.json, with a
valid token; no 5xx, and every answer matches its documented status, headers and schema."""

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import LOG_DIR, running_stack
from tests.e2e.conftest import start_host

CHECKS = ",".join(
    [
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_headers_conformance",
        "response_schema_conformance",
    ]
)


@pytest.mark.timeout(600)
def test_generated_requests_get_documented_answers_and_no_server_error() -> None:
    # A stack of its own, with allowances large enough for a fuzzer (429 is documented anyway).
    with running_stack() as stack:
        host = start_host(stack, QUOTA_ROADMAPS_PER_DAY="1000", QUOTA_LESSONS_PER_HOUR="10000")
        try:
            token = stack.verifier().issue("schemathesis")
            run = subprocess.run(
                [
                    str(Path(sys.executable).with_name("st")),
                    "run",
                    f"{host.base_url}/api/openapi.json",
                    "--header",
                    f"Authorization: Bearer {token}",
                    "--checks",
                    CHECKS,
                    "--max-examples",
                    "15",
                    "--seed",
                    "20261125",
                    "--request-timeout",
                    "15",
                    "--report",
                    "junit",
                    "--report-dir",
                    str(LOG_DIR / "schemathesis"),
                ],
                capture_output=True,
                text=True,
                timeout=540,
                check=False,
            )
        finally:
            host.stop()
    assert run.returncode == 0, run.stdout[-8000:] + run.stderr[-2000:]
    assert " passed" in run.stdout
