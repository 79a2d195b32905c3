"""host.json as the Functions host reads it: the limits it will enforce on this app.

The file beside ``function_app.py``, overridden by app settings named
``AzureFunctionsJobHost__<path>`` (``AzureFunctionsJobHost__functionTimeout``,
``AzureFunctionsJobHost__extensions__queues__visibilityTimeout``; names match case-insensitively),
with the host's defaults for what neither sets. The settings check their timings against it
(``adapters/settings_rules.py``) and the local host (``devhost/hostconfig.py``) runs by it, so
both honour the same values.
https://learn.microsoft.com/azure/azure-functions/functions-host-json#override-hostjson-values
"""

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HOST_JSON = Path(__file__).resolve().parent.parent / "host.json"
OVERRIDE_PREFIX = "azurefunctionsjobhost__"
# functionTimeout when host.json sets none: the Flex Consumption plan's default (infra/ deploys
# to it); "-1" there means unbounded.
DEFAULT_FUNCTION_TIMEOUT = "00:30:00"

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


def apply_overrides(data: dict[str, Any], environ: Mapping[str, str]) -> None:
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


def read_host_json(
    path: Path = HOST_JSON, environ: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """host.json (``{}`` if absent) with the overrides in ``environ`` (default: the process's)."""
    data: dict[str, Any] = json.loads(path.read_text()) if path.exists() else {}
    apply_overrides(data, os.environ if environ is None else environ)
    return data


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

    @property
    def longest_pickup(self) -> float:
        """Seconds one message may keep its lesson ``queued`` before it is poisoned, at worst.

        Each delivery may wait out ``visibilityTimeout`` (after the previous one failed) and then
        a listener idling at ``maxPollingInterval``; a lesson whose claim itself keeps failing
        stays queued through all ``maxDequeueCount`` of them. Backlog is not counted: a queue
        longer than the workers can drain has no bound.
        """
        return self.max_dequeue_count * (self.max_polling_interval + self.visibility_timeout)


@dataclass(frozen=True)
class HostLimits:
    """What the host enforces on every invocation: ``functionTimeout`` and queue delivery."""

    function_timeout: float | None = parse_timespan(DEFAULT_FUNCTION_TIMEOUT)
    queues: QueueOptions = QueueOptions()

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "HostLimits":
        """From host.json's content (overrides applied); ``ValueError`` naming what is wrong."""
        name = "host.json functionTimeout (or AzureFunctionsJobHost__functionTimeout)"
        try:
            timeout = parse_timespan(data.get("functionTimeout", DEFAULT_FUNCTION_TIMEOUT))
        except ValueError:
            raise ValueError(f"{name} must be a TimeSpan, or -1 (unbounded)") from None
        if timeout is not None and timeout <= 0:
            raise ValueError(f"{name} must be positive, or -1 (unbounded)")
        try:
            queues = QueueOptions.from_json(data.get("extensions", {}).get("queues", {}))
        except (ValueError, TypeError) as error:
            raise ValueError(f"host.json extensions.queues: {error}") from None
        return cls(function_timeout=timeout, queues=queues)

    @classmethod
    def load(cls, path: Path = HOST_JSON, environ: Mapping[str, str] | None = None) -> "HostLimits":
        """The app's host.json with the overrides in ``environ`` (default: the process's)."""
        return cls.from_json(read_host_json(path, environ))
