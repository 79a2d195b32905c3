"""The parts of host.json the local host honours, with the Functions host's defaults."""

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_TIMESPAN = re.compile(r"^(?:(\d+)\.)?(\d{1,2}):(\d{2}):(\d{2})(?:\.(\d+))?$")


def parse_timespan(value: Any) -> float | None:
    """Seconds in a .NET TimeSpan (``[d.]hh:mm:ss[.fff]``) or a number of milliseconds.

    ``-1`` (an unbounded ``functionTimeout``) gives ``None``.
    """
    if isinstance(value, int | float):
        return None if value == -1 else float(value) / 1000
    text = str(value).strip()
    if text == "-1":
        return None
    if re.fullmatch(r"\d+(?:\.\d+)?", text):  # milliseconds, as a setting's string value
        return float(text) / 1000
    match = _TIMESPAN.match(text)
    if not match:
        raise ValueError(f"not a TimeSpan: {value!r}")
    days, hours, minutes, seconds, fraction = match.groups()
    total = int(days or 0) * 86400 + int(hours) * 3600 + int(minutes) * 60 + int(seconds)
    return total + (float(f"0.{fraction}") if fraction else 0.0)


OVERRIDE_PREFIX = "azurefunctionsjobhost__"


def _override(data: dict[str, Any], environ: Mapping[str, str]) -> None:
    """Apply ``AzureFunctionsJobHost__extensions__queues__batchSize=4``-style settings."""
    for name, value in environ.items():
        if not name.lower().startswith(OVERRIDE_PREFIX):
            continue
        *parents, leaf = name[len(OVERRIDE_PREFIX) :].split("__")
        node = data
        for part in parents:
            key = next((k for k in node if k.lower() == part.lower()), part)
            node = node.setdefault(key, {})
        key = next((k for k in node if k.lower() == leaf.lower()), leaf)
        node[key] = value


@dataclass(frozen=True)
class QueueOptions:
    """host.json ``extensions.queues`` (defaults from the Functions documentation)."""

    batch_size: int = 16
    new_batch_threshold: int = 8
    max_polling_interval: float = 60.0
    visibility_timeout: float = 0.0
    max_dequeue_count: int = 5
    message_encoding: str = "base64"

    @classmethod
    def from_json(cls, section: dict[str, Any]) -> "QueueOptions":
        """Read ``extensions.queues``; a missing ``newBatchThreshold`` is half the batch size."""
        batch_size = int(section.get("batchSize", cls.batch_size))
        if not 1 <= batch_size <= 32:
            raise ValueError(f"queues.batchSize must be 1..32, not {batch_size}")
        polling = parse_timespan(section.get("maxPollingInterval", "00:01:00"))
        encoding = str(section.get("messageEncoding", cls.message_encoding)).lower()
        if encoding not in ("base64", "none"):
            raise ValueError(f"queues.messageEncoding must be base64 or none, not {encoding!r}")
        return cls(
            batch_size=batch_size,
            new_batch_threshold=int(section.get("newBatchThreshold", batch_size // 2)),
            max_polling_interval=max(0.1, polling or 60.0),
            visibility_timeout=parse_timespan(section.get("visibilityTimeout", 0)) or 0.0,
            max_dequeue_count=int(section.get("maxDequeueCount", cls.max_dequeue_count)),
            message_encoding=encoding,
        )


@dataclass(frozen=True)
class HostConfig:
    """What the local host reads from host.json."""

    route_prefix: str = "api"
    function_timeout: float | None = 300.0
    queues: QueueOptions = QueueOptions()

    @classmethod
    def load(cls, path: Path, environ: Mapping[str, str] | None = None) -> "HostConfig":
        """Parse host.json, overridden by ``AzureFunctionsJobHost__a__b`` settings as in Azure."""
        data = json.loads(path.read_text()) if path.exists() else {}
        _override(data, os.environ if environ is None else environ)
        extensions = data.get("extensions", {})
        return cls(
            route_prefix=str(extensions.get("http", {}).get("routePrefix", "api")).strip("/"),
            function_timeout=parse_timespan(data.get("functionTimeout", "00:05:00")),
            queues=QueueOptions.from_json(extensions.get("queues", {})),
        )
