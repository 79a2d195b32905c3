"""``local.settings.json``: created from the example when missing, its ``Values`` put in the
environment the way ``func start`` does (variables already set in the environment win)."""

import json
import os
import secrets
from collections.abc import MutableMapping
from pathlib import Path

SETTINGS_FILE = "local.settings.json"
EXAMPLE_FILE = "local.settings.json.example"
GENERATED = ("AUTH_JWT_SECRET",)


def ensure(project_dir: Path) -> Path:
    """The settings file, created from the example if it does not exist; a development secret
    left empty (a fresh copy of the example) is generated, never refused."""
    path = project_dir / SETTINGS_FILE
    created = not path.exists()
    data = json.loads((project_dir / (EXAMPLE_FILE if created else SETTINGS_FILE)).read_text())
    values = data.setdefault("Values", {})
    missing = [name for name in GENERATED if not str(values.get(name) or "").strip()]
    if not created and not missing:
        return path
    for name in missing:
        values[name] = secrets.token_urlsafe(48)
    path.write_text(json.dumps(data, indent=2) + "\n")
    path.chmod(0o600)
    what = f"created {SETTINGS_FILE} from {EXAMPLE_FILE}" if created else f"updated {SETTINGS_FILE}"
    print(f"devhost: {what} (with a new development secret)")
    return path


def values(path: Path) -> dict[str, str]:
    """The ``Values`` section, every value as a string."""
    data = json.loads(path.read_text())
    return {name: str(value) for name, value in data.get("Values", {}).items()}


def apply(project_dir: Path, environ: MutableMapping[str, str] = os.environ) -> None:
    """Load ``local.settings.json`` (creating it if needed) into ``environ`` without overriding.

    A setting added to the example since the file was created takes the example's value, so an
    older ``local.settings.json`` keeps working.
    """
    for name, value in values(ensure(project_dir)).items():
        environ.setdefault(name, value)
    for name, value in values(project_dir / EXAMPLE_FILE).items():
        if name not in GENERATED:
            environ.setdefault(name, value)
