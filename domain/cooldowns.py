"""Providers resting, worker-wide: cooldowns after a 429 or a refused key, and circuit breakers.

One ``Cooldowns`` per worker process is shared by every invocation (``functions/bootstrap.py``
owns it), so one lesson's 429 or outage spares the next lessons the call. A provider's breaker
counts 5xx and timeouts in a row; at the chain's limit the provider rests, then one call probes
it: an answer closes the breaker, a failure opens it again at once.
"""

import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum


class Trip(StrEnum):
    """How a failure changed a provider's breaker."""

    OPENED = "opened"  # the failures in a row reached the limit
    REOPENED = "reopened"  # the probe after a rest failed


@dataclass
class _Breaker:
    """One provider's circuit breaker."""

    failures: int = 0  # 5xx or timeouts in a row since the last answer or opening
    half_open: bool = False  # opened and not closed since: the next call is a probe
    probing: bool = False  # that probe is in flight, so nobody else calls


class Cooldowns:
    """Providers resting until a moment on a monotonic clock, and each provider's breaker.

    One per worker process. Everything runs on the worker's event loop, and no method awaits,
    so a check and the call it allows happen without another task in between.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._until: dict[str, float] = {}
        self._breakers: dict[str, _Breaker] = {}

    def remaining(self, provider: str) -> float:
        """Seconds the provider still rests (0 when it may be asked)."""
        return max(0.0, self._until.get(provider, 0.0) - self._clock())

    def rest(self, provider: str, seconds: float) -> None:
        """Keep the provider out of use for ``seconds`` (never shortening a longer rest)."""
        self._until[provider] = max(self._until.get(provider, 0.0), self._clock() + seconds)

    def may_ask(self, provider: str) -> bool:
        """Whether a call may start: not resting, and no probe of its breaker in flight."""
        breaker = self._breakers.get(provider)
        return self.remaining(provider) == 0 and not (breaker and breaker.probing)

    def calling(self, provider: str) -> None:
        """A call starts; after an opened breaker's rest, it is the one probe."""
        breaker = self._breakers.get(provider)
        if breaker and breaker.half_open:
            breaker.probing = True

    def answered(self, provider: str) -> None:
        """The provider answered (even unusably): its breaker closes and its count resets."""
        self._breakers.pop(provider, None)

    def unsettled(self, provider: str) -> None:
        """A call ended saying nothing of the provider's health (429, refused key, cancelled)."""
        breaker = self._breakers.get(provider)
        if breaker:
            breaker.probing = False

    def failed(self, provider: str, limit: int, seconds: float) -> Trip | None:
        """Count a 5xx or timeout; if that opens the breaker, rest ``seconds`` and say how.

        A failure that ends while the provider already rests was in flight before it began
        resting, and is not counted.
        """
        if self.remaining(provider) > 0:
            return None
        breaker = self._breakers.setdefault(provider, _Breaker())
        breaker.failures += 1
        if breaker.failures < limit and not breaker.half_open:
            return None
        trip = Trip.REOPENED if breaker.half_open else Trip.OPENED
        self._breakers[provider] = _Breaker(half_open=True)
        self.rest(provider, seconds)
        return trip
