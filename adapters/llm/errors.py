"""What goes wrong when an LLM host is asked, mapped onto the domain's provider errors.

Every provider's call runs inside ``provider_errors``, which turns its client library's failures
into the domain's tree, by what they mean:

    an HTTP error answer (``ClientErrors.answered``)  → ``for_status``: rate limited, rejected,
                                                        timed out or unavailable, by status
    no answer in time (``ClientErrors.timed_out``)   → ``ProviderTimeout``
    no connection (``ClientErrors.unreachable``)     → ``ProviderUnavailable``
    an answer broken off (``ClientErrors.broke_off``) → ``ProviderUnavailable``
    a reply of unknown shape (``reply_shape``)       → ``ProviderUnavailable``

Messages name the provider and the status, never a key or a prompt.
"""

import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

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


@dataclass(frozen=True)
class ClientErrors:
    """The exception classes a client library raises for a failed call, by what they mean.

    :param answered: the host answered with an error status. The status is read from
        ``status_code`` (Stainless SDKs such as groq's) or ``code`` (google-genai's), the
        headers from ``response``, and error details from ``details`` when there are any.
    :param timed_out: no answer within the time limit.
    :param unreachable: no answer at all (connection refused, reset, DNS, TLS).
    :param broke_off: the host stopped a streamed answer with an error of its own (an error
        event inside the stream). Checked last, so it may name a base class of the others.
    """

    answered: tuple[type[Exception], ...] = ()
    timed_out: tuple[type[Exception], ...] = (httpx.TimeoutException,)
    unreachable: tuple[type[Exception], ...] = (httpx.TransportError,)
    broke_off: tuple[type[Exception], ...] = ()


HTTPX = ClientErrors()  # plain httpx: a status is checked by the caller, not raised


@contextmanager
def provider_errors(
    provider: str, time_limit: float, raised: ClientErrors = HTTPX
) -> Iterator[None]:
    """Raise the domain's provider error for any failure ``raised`` lists inside the block."""
    try:
        yield
    except raised.answered as error:
        raise for_status(provider, *_answer_of(error)) from None
    except raised.timed_out:
        raise ProviderTimeout(f"{provider} did not answer in {time_limit:.0f} s") from None
    except raised.unreachable as error:
        raise ProviderUnavailable(f"{provider} is unreachable: {type(error).__name__}") from None
    except raised.broke_off as error:
        raise ProviderUnavailable(
            f"{provider} broke off its answer: {type(error).__name__}"
        ) from None


@contextmanager
def reply_shape(provider: str) -> Iterator[None]:
    """Raise ``ProviderUnavailable`` when reading a successful reply inside the block fails."""
    try:
        yield
    except (ValueError, KeyError, IndexError, TypeError, AttributeError):
        raise ProviderUnavailable(f"{provider} sent a response of unknown shape") from None


def _answer_of(error: Exception) -> tuple[int, Mapping[str, str] | None, Any]:
    status: Any = getattr(error, "status_code", None)
    if status is None:
        status = getattr(error, "code", None)
    headers = getattr(getattr(error, "response", None), "headers", None)
    return status, headers, getattr(error, "details", None)
