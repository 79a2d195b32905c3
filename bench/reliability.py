"""``make reliability``: run every fault scenario on the real stack, then write its figures into
``docs/reliability.md`` (everything after the marker) and ``bench/results/reliability.json``.

    python -m bench.reliability                  # run the fault tests, then write the report
    python -m bench.reliability --figures DIR    # write it from figures recorded earlier

The fault tests record their own figures (``tests/support/reliability.py``) into a fresh
directory; the table is built from those files alone, so every figure in it comes from the run.
Nothing is written when a scenario fails: the report never shows a run that broke a guarantee.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path

from tests.support.reliability import DIRECTORY_VARIABLE, Figures, recorded

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "docs" / "reliability.md"
RESULTS = ROOT / "bench" / "results" / "reliability.json"
MARKER = "<!-- figures: written by `make reliability` (bench/reliability.py) -->"
# The scenarios, in the order the table lists them: the faults tested first, then issue 17's.
TEST_FILES = ("tests/e2e/test_delivery_faults.py", "tests/e2e/test_reliability.py")


def run_scenarios(folder: Path) -> int:
    """Run the fault tests, recording into ``folder``; pytest's exit code."""
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", *TEST_FILES]
    env = {**os.environ, DIRECTORY_VARIABLE: str(folder)}
    return subprocess.run(command, cwd=ROOT, env=env, check=False).returncode


def _order(figures: Figures) -> tuple[int, int, str]:
    """Where the scenario's test stands: its file's place, then its place in the file."""
    path, _, name = figures.scenario.partition("::")
    function = name.split("[")[0]
    position = TEST_FILES.index(path) if path in TEST_FILES else len(TEST_FILES)
    text = (ROOT / path).read_text() if (ROOT / path).exists() else ""
    return position, text.find(f"def {function}("), name


def _cell(text: str) -> str:
    """Table-safe, beginning with a capital."""
    return (text[:1].upper() + text[1:]).replace("|", "\\|").replace("\n", " ")


def table(scenarios: list[Figures]) -> str:
    """The Markdown table: one row per scenario, then the totals."""
    lines = [
        "| Fault | What the system did | Lessons asked | Lost | Extra model calls "
        "| Recovered in | counted from |",
        "|---|---|--:|--:|--:|--:|---|",
    ]
    for one in scenarios:
        lines.append(
            f"| {_cell(one.fault)} | {_cell(one.outcome)} | {one.asked} | **{one.lost}** | "
            f"{one.extra_calls} | {one.recovery_seconds:g} s | {_cell(one.recovered_from)} |"
        )
    asked = sum(one.asked for one in scenarios)
    lost = sum(one.lost for one in scenarios)
    extra = sum(one.extra_calls for one in scenarios)
    lines.append(f"| **All {len(scenarios)} scenarios** | | {asked} | **{lost}** | {extra} | | |")
    return "\n".join(lines)


def write_page(scenarios: list[Figures], *, seconds: float | None = None) -> Path:
    """Replace the figures section of docs/reliability.md, and store them as JSON."""
    text = PAGE.read_text() if PAGE.exists() else f"# Reliability\n\n{MARKER}\n"
    head = text.split(MARKER)[0]
    when = datetime.now(UTC).strftime("%Y-%m-%d")
    took = f" in {seconds:.0f} s" if seconds is not None else ""
    figures = (
        f"{MARKER}\n\n"
        f"Measured on {when}, {os.cpu_count()} cores, {len(scenarios)} scenarios{took}.\n\n"
        f"{table(scenarios)}\n"
    )
    PAGE.write_text(head + figures)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    rows = [{**asdict(one), "lost": one.lost, "extraCalls": one.extra_calls} for one in scenarios]
    RESULTS.write_text(json.dumps({"measuredOn": when, "scenarios": rows}, indent=2) + "\n")
    return PAGE


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.reliability", description=__doc__)
    parser.add_argument("--figures", type=Path, help="write the report from these figures only")
    options = parser.parse_args(argv)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="reliability-") as fresh:
        folder = options.figures or Path(fresh)
        if options.figures is None and run_scenarios(folder) != 0:
            print("reliability: a fault scenario failed; the report is left as it was")
            return 1
        scenarios = sorted(recorded(folder), key=_order)
        if not scenarios:
            print(f"reliability: no figures in {folder}")
            return 1
        seconds = None if options.figures else time.perf_counter() - started
        page = write_page(scenarios, seconds=seconds)
    print(table(scenarios))
    print(f"reliability: {page.relative_to(ROOT)} and {RESULTS.relative_to(ROOT)} written")
    return 0


if __name__ == "__main__":
    sys.exit(main())
