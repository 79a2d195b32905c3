"""The parts of host.json the local host honours, with the Functions host's defaults."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

# Read by the app's settings too (adapters/host_json.py), so both honour the same values.
from adapters.host_json import HostLimits, QueueOptions, parse_timespan, read_host_json

__all__ = ["HostConfig", "QueueOptions", "parse_timespan"]


@dataclass(frozen=True)
class HostConfig:
    """What the local host reads from host.json."""

    route_prefix: str = "api"
    function_timeout: float | None = HostLimits.function_timeout
    queues: QueueOptions = field(default_factory=QueueOptions)

    @classmethod
    def load(cls, path: Path, environ: Mapping[str, str] | None = None) -> "HostConfig":
        """Parse host.json, overridden by ``AzureFunctionsJobHost__a__b`` settings as in Azure."""
        data = read_host_json(path, environ)
        limits = HostLimits.from_json(data)
        http = data.get("extensions", {}).get("http", {})
        return cls(
            route_prefix=str(http.get("routePrefix", "api")).strip("/"),
            function_timeout=limits.function_timeout,
            queues=limits.queues,
        )
