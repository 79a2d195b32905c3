"""The figures of each fault scenario, recorded by the test that measures them.

Every fault test on the real stack (``tests/e2e/test_reliability.py``,
``tests/e2e/test_delivery_faults.py``) writes one JSON file per scenario, before its assertions,
so a failing run records what actually happened. ``python -m bench.reliability`` (``make
reliability``) runs them and turns the files into the table of ``docs/reliability.md``.

Times are wall-clock seconds on whatever machine ran the tests: recorded, never asserted.
"""

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

# Where the figures go: this variable's directory, else the tests' log directory.
DIRECTORY_VARIABLE = "SKILLSYNC_RELIABILITY_DIR"
DEFAULT_DIRECTORY = Path(__file__).resolve().parents[2] / ".devhost" / "test-logs" / "reliability"


@dataclass(frozen=True)
class Figures:
    """What one fault scenario did to the lessons asked for, and what it cost."""

    scenario: str  # the test's node id, e.g. tests/e2e/test_reliability.py::test_…
    fault: str  # what was done to the system
    outcome: str  # what the system did, with the figures measured
    asked: int  # lessons asked for
    completed: int
    failed: int  # ended failed with a reason the learner can act on (and may retry)
    model_calls: int  # provider calls made, answered or not
    recovery_seconds: float
    recovered_from: str  # the moment the recovery time is counted from
    injected: int | None = None  # faults the proxy applied, where one did

    @property
    def lost(self) -> int:
        """Lessons that never ended completed or failed."""
        return self.asked - self.completed - self.failed

    @property
    def extra_calls(self) -> int:
        """Provider calls beyond one per completed lesson."""
        return self.model_calls - self.completed


def directory() -> Path:
    """Where figures are written and read."""
    return Path(os.environ.get(DIRECTORY_VARIABLE) or DEFAULT_DIRECTORY)


def record(figures: Figures) -> Path:
    """Write one scenario's figures (replacing an earlier run's)."""
    folder = directory()
    folder.mkdir(parents=True, exist_ok=True)
    name = figures.scenario.rsplit("::", 1)[-1].replace("[", "-").replace("]", "")
    path = folder / f"{name}.json"
    path.write_text(json.dumps(asdict(figures), indent=2) + "\n")
    return path


def recorded(folder: Path | None = None) -> list[Figures]:
    """Every scenario's figures found in ``folder`` (default: ``directory()``)."""
    found = sorted((folder or directory()).glob("*.json"))
    return [Figures(**json.loads(path.read_text())) for path in found]
