"""HTTP answers of LLM hosts, mapped onto the domain's provider errors.

Messages name the provider and the status, never a key or a prompt.
"""

import re
from collections.abc import Mapping
from email.utils import parsedate_to_datetime
from typing import Any

from domain.base import utcnow
from domain.errors import (
    ProviderRateLimited,
    ProviderRejected,
    ProviderTimeout,
    ProviderUnavailable,
    SkillSyncError,
)

_DELAY = re.compile(r"^\s*(\d+(?:\.\d+)?)s\s*$")  # google.rpc.RetryInfo retryDelay, e.g. "37s"


def retry_after(headers: Mapping[str, str] | None, details: Any = None) -> float | None:
    """Seconds to wait, from ``retry-after-ms``, ``retry-after`` or a Google RetryInfo."""
    headers = {k.lower(): v for k, v in (headers or {}).items()}
    try:
        if "retry-after-ms" in headers:
            return max(0.0, float(headers["retry-after-ms"]) / 1000)
        if "retry-after" in headers:
            value = headers["retry-after"].strip()
            if value.replace(".", "", 1).isdigit():
                return float(value)
            return max(0.0, (parsedate_to_datetime(value) - utcnow()).total_seconds())
    except (ValueError, TypeError):
        pass
    return _retry_info(details)


def _retry_info(details: Any) -> float | None:
    error = details.get("error", details) if isinstance(details, dict) else {}
    for item in error.get("details", []) if isinstance(error, dict) else []:
        if isinstance(item, dict) and str(item.get("@type", "")).endswith("RetryInfo"):
            match = _DELAY.match(str(item.get("retryDelay", "")))
            if match:
                return float(match.group(1))
    return None


def for_status(
    provider: str, status: int, headers: Mapping[str, str] | None = None, details: Any = None
) -> SkillSyncError:
    """The error for an HTTP status a provider answered with."""
    what = f"{provider} answered HTTP {status}"
    if status == 429:
        return ProviderRateLimited(what, retry_after=retry_after(headers, details))
    if status in (401, 403, 404):
        return ProviderRejected(what, status=status, auth=True)
    if status == 408:
        return ProviderTimeout(what)
    if status >= 500:
        return ProviderUnavailable(what)
    return ProviderRejected(what, status=status, auth=False)
