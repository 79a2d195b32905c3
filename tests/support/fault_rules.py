"""What the fault proxy (``tests/support/fault_proxy.py``) does to which requests.

A ``Rule`` picks requests by method, path pattern and an optional predicate on the request; its
``Fault`` says what happens to those it fires on: a delay, a reset before or after forwarding,
or an answer of the proxy's own (Cosmos DB's 429 and 503, Storage's 503, or any status).
"""

import json
import random
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

Action = Literal["forward", "reset", "reset_after", "answer"]


@dataclass(frozen=True)
class Request:
    """One request as the proxy read it (header names in lower case)."""

    method: str
    path: str  # without the query string
    query: str
    headers: dict[str, str]
    body: bytes


@dataclass(frozen=True)
class Fault:
    """What a rule does to a request it fires on; build it with the class methods."""

    action: Action
    delay: float = 0.0
    status: int = 0
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""

    @classmethod
    def slow(cls, seconds: float) -> "Fault":
        """Forward after ``seconds``."""
        return cls("forward", delay=seconds)

    @classmethod
    def reset(cls, *, after: bool = False, delay: float = 0.0) -> "Fault":
        """Reset the connection before forwarding or, ``after``, once the target answered."""
        return cls("reset_after" if after else "reset", delay=delay)

    @classmethod
    def answer(
        cls, status: int, body: bytes = b"", headers: dict[str, str] | None = None
    ) -> "Fault":
        """Answer ``status`` with ``body`` and ``headers`` instead of the target."""
        return cls("answer", status=status, headers=tuple((headers or {}).items()), body=body)

    @classmethod
    def cosmos_throttled(cls, retry_after_ms: int = 50) -> "Fault":
        """Cosmos DB's 429 "request rate is large", with the wait it asks for."""
        body = {"code": "TooManyRequests", "message": "Request rate is large (fault proxy)"}
        headers = {
            "Content-Type": "application/json",
            "x-ms-retry-after-ms": str(retry_after_ms),
            "x-ms-substatus": "3200",
            "x-ms-request-charge": "0",
        }
        return cls.answer(429, json.dumps(body).encode(), headers)

    @classmethod
    def cosmos_unavailable(cls) -> "Fault":
        """Cosmos DB's 503 "service unavailable"."""
        body = {"code": "ServiceUnavailable", "message": "Service is unavailable (fault proxy)"}
        return cls.answer(503, json.dumps(body).encode(), {"Content-Type": "application/json"})

    @classmethod
    def storage_unavailable(cls) -> "Fault":
        """Azure Storage's 503 "server busy" (an XML error with ``x-ms-error-code``)."""
        body = (
            '<?xml version="1.0" encoding="utf-8"?><Error><Code>ServerBusy</Code>'
            "<Message>The server is busy (fault proxy).</Message></Error>"
        )
        headers = {"Content-Type": "application/xml", "x-ms-error-code": "ServerBusy"}
        return cls.answer(503, body.encode(), headers)


def _pattern(glob: str) -> re.Pattern[str]:
    """``*`` matches within one path segment, ``**`` across segments."""
    parts = (
        ".*" if part == "**" else "[^/]*" if part == "*" else re.escape(part)
        for part in re.split(r"(\*\*|\*)", glob)
    )
    return re.compile("".join(parts))


@dataclass
class Rule:
    """Which requests get a fault: ``method`` (``None``: any), ``path`` (a glob, see
    ``_pattern``; matched against the path without its query or a trailing ``/``, which the
    Cosmos DB SDK adds) and ``when`` (a predicate on the request)."""

    path: str
    fault: Fault
    method: str | None = None
    when: Callable[[Request], bool] | None = None
    times: int | None = None
    fraction: float = 1.0
    seed: int = 17
    matched: int = 0  # requests that matched, fired or not
    applied: int = 0  # requests the fault was applied to
    _regex: re.Pattern[str] = field(init=False, repr=False)
    _random: random.Random = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._regex = _pattern(self.path)
        self._random = random.Random(self.seed)

    def matches(self, request: Request) -> bool:
        """Whether the request is one this rule is about (counted)."""
        if self.method is not None and request.method != self.method.upper():
            return False
        if not self._regex.fullmatch(request.path.rstrip("/") or "/"):
            return False
        if self.when is not None and not self.when(request):
            return False
        self.matched += 1
        return True

    def fires(self) -> bool:
        """Whether the fault applies to the request just matched (counted)."""
        if self.times is not None and self.applied >= self.times:
            return False
        if self.fraction < 1.0 and self._random.random() >= self.fraction:
            return False
        self.applied += 1
        return True


def body_contains(*fragments: str) -> Callable[[Request], bool]:
    """A predicate: the body holds every fragment (spaces after ``:`` and ``,`` ignored)."""
    compact = [fragment.replace(": ", ":").replace(", ", ",").encode() for fragment in fragments]

    def check(request: Request) -> bool:
        body = request.body.replace(b": ", b":").replace(b", ", b",")
        return all(fragment in body for fragment in compact)

    return check
