"""checkov's Bicep checks pass over infra/; every check skipped says why, where it is skipped."""

import re
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
INFRA = ROOT / "infra"
SKIP = re.compile(r"//\s*checkov:skip=([A-Z0-9_]+):\s*(\S.*)")


def inline_skips() -> set[tuple[str, str]]:
    """(file under infra/, check id) for every ``// checkov:skip=ID: reason`` comment."""
    return {
        ("/" + path.relative_to(INFRA).as_posix(), match.group(1))
        for path in INFRA.rglob("*.bicep")
        for match in SKIP.finditer(path.read_text())
    }


def test_checkov_parses_every_template_and_finds_no_failure(checkov_report: dict[str, Any]) -> None:
    results = checkov_report["results"]
    errors = results["parsing_errors"]
    assert errors == [], f"checkov (its pycep-parser is older) could not parse {errors}"
    failed = [(c["check_id"], c["file_path"], c["resource"]) for c in results["failed_checks"]]
    assert not failed, f"checkov failed: {failed}"
    scanned = {check["file_path"] for check in results["passed_checks"]}
    assert {"/main.bicep", "/app/functionapp.bicep", "/core/storage.bicep"} <= scanned


def test_every_skipped_check_says_why_inline(checkov_report: dict[str, Any]) -> None:
    skipped = checkov_report["results"]["skipped_checks"]
    for check in skipped:
        reason = check["check_result"].get("suppress_comment", "").strip()
        assert reason, f"{check['check_id']}: no reason"
        assert reason != "No comment provided", f"{check['check_id']}: no reason"
    reported = {(check["file_path"], check["check_id"]) for check in skipped}
    # A skip comment that matches no check is stale: it would hide a future failure.
    assert reported == inline_skips(), f"unused: {inline_skips() - reported}"
