"""Fixtures for the infra checks: every Bicep template parsed once, and one checkov scan.

No Bicep CLI can run here, so templates are parsed by pycep-parser (the parser checkov itself
uses) and scanned by checkov from its own virtualenv (its pinned dependencies clash with the
app's), which ``make infra-deps`` (and ``make test``) installs from requirements-infra.txt.
"""

import json
import subprocess
from typing import Any, cast

import pytest

from tests.infra.bicep import BICEP_FILES, INFRA, ROOT, Template, parse

# Where `make infra-deps` installs checkov (INFRA_VENV in the Makefile).
CHECKOV = ROOT / ".tools" / "checkov" / "bin" / "checkov"


@pytest.fixture(scope="session")
def templates() -> dict[str, Template]:
    """Every template, keyed by its path under infra/ (``main.bicep``, ``core/storage.bicep``)."""
    return {path.relative_to(INFRA).as_posix(): parse(path) for path in BICEP_FILES}


@pytest.fixture(scope="session")
def checkov_report() -> dict[str, Any]:
    """checkov's JSON report of its Bicep checks over infra/ (offline: no policy download)."""
    if not CHECKOV.exists():
        where = CHECKOV.relative_to(ROOT)
        pytest.fail(f"checkov is not installed at {where}: run `make infra-deps`")
    command = [str(CHECKOV), "-d", "infra", "--framework", "bicep", "--skip-download", "-o", "json"]
    run = subprocess.run(
        command, cwd=ROOT, capture_output=True, text=True, timeout=300, check=False
    )
    try:
        report = json.loads(run.stdout)
    except ValueError:
        pytest.fail(f"checkov gave no JSON report (exit {run.returncode}): {run.stderr[-2000:]}")
    assert isinstance(report, dict), f"expected one report for the bicep framework: {report!r}"
    return cast(dict[str, Any], report)
