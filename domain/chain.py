"""The provider chain: ask providers in order until one gives a valid answer, wasting no call.

For each provider, within the task's total budget:

- resting (after a 429, a configuration error or an open
  breaker), or a half-open breaker already probing         → skipped, no call;
- 429 with a Retry-After that fits the budget               → wait it out once, ask again;
  429 otherwise                                             → rest that long, next provider;
- 5xx, connection error or timeout                          → one jittered retry, then next;
- 401/403/404 (bad key, unknown model)                      → rest for a long time, logged;
- other 4xx                                                 → next provider;
- JSON that fails validation                                → one repair request quoting the
                                                              error, then next provider.

Across tasks, each provider has a circuit breaker: ``breaker_failures`` 5xx, connection errors or
timeouts in a row (a retry counts too) open it and the provider rests for ``breaker_rest``; the
first call after the rest is the one probe (half-open): an answer closes the breaker, a failure
opens it again at once. Any answer, even invalid JSON or another 4xx, resets the count; 429s and
refused keys keep their own rests and leave the count as it is.

A provider that needs no network (the offline templates) is tried even when the budget is spent,
and has no breaker. Rests and breakers live in a ``Cooldowns`` shared by every invocation in the
worker process, so an outage costs a handful of calls, not two per task.
"""

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any, TypeVar

from pydantic import BaseModel

from domain.cooldowns import Cooldowns, Trip
from domain.errors import (
    ContentRejected,
    NoProviderSucceeded,
    NoValidAnswer,
    ProviderRateLimited,
    ProviderRejected,
    ProviderTimeout,
    ProviderUnavailable,
)
from domain.lesson import ProviderAttempt
from domain.ports import (
    Draft,
    DraftWatcher,
    Generated,
    LessonBrief,
    LlmProvider,
    LlmTask,
    Repair,
    RoadmapBrief,
    TaskKind,
    TextSink,
)
from domain.telemetry import (
    ATTR_MODEL,
    ATTR_OUTCOME,
    ATTR_PROVIDER,
    PROVIDER_ATTEMPTS,
    PROVIDER_BREAKER_OPENS,
    PROVIDER_TOKENS,
    NoTelemetry,
    Telemetry,
)
from domain.validation import parse_json_as

log = logging.getLogger(__name__)
M = TypeVar("M", bound=BaseModel)

MIN_ATTEMPT_SECONDS = 0.5  # below this much budget a network call is not worth starting
MAX_QUOTED_ANSWER = 4_000  # characters of a failed answer quoted back in a repair request


class Outcome(StrEnum):
    """How one attempt ended, as recorded in a lesson's ``attempts``."""

    OK = "ok"
    INVALID = "invalid"
    RATE_LIMITED = "rate_limited"
    UNAVAILABLE = "unavailable"
    TIMEOUT = "timeout"
    REJECTED = "rejected"
    UNAUTHORIZED = "unauthorized"
    COOLING_DOWN = "cooling_down"
    NO_BUDGET = "no_budget"


# Outcomes that may pass with time: a chain that met any of them is worth running again later.
_PASSING = frozenset(
    {
        Outcome.RATE_LIMITED,
        Outcome.UNAVAILABLE,
        Outcome.TIMEOUT,
        Outcome.COOLING_DOWN,
        Outcome.NO_BUDGET,
    }
)


@dataclass(frozen=True)
class ChainPolicy:
    """Timeouts and rests, from settings."""

    attempt_timeout: float = 30.0
    rate_limit_rest: float = 30.0  # a 429 that names no Retry-After
    auth_rest: float = 3600.0
    breaker_failures: int = 3  # 5xx or timeouts in a row that open a provider's breaker
    breaker_rest: float = 60.0  # how long a provider whose breaker opened rests
    retry_jitter: tuple[float, float] = (0.2, 1.0)


class ProviderChain:
    """Tries providers in order; see the module docstring for the rules."""

    def __init__(
        self,
        providers: Sequence[LlmProvider],
        cooldowns: Cooldowns,
        policy: ChainPolicy = ChainPolicy(),
        *,
        validation_context: Mapping[str, Any] | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        rng: random.Random | None = None,
        telemetry: Telemetry | None = None,
    ) -> None:
        if not providers:
            raise ValueError("the chain needs at least one provider")
        self.providers = list(providers)
        self._cooldowns = cooldowns
        self._policy = policy
        self._context = dict(validation_context or {})
        self._clock = clock
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._telemetry = telemetry or NoTelemetry()

    async def generate(
        self,
        kind: TaskKind,
        brief: LessonBrief | RoadmapBrief,
        schema: type[M],
        *,
        budget: float,
        watcher: DraftWatcher | None = None,
    ) -> Generated[M]:
        """The first valid answer; ``NoProviderSucceeded`` or ``NoValidAnswer`` if none.

        With a ``watcher``, each attempt is streamed to it, and an attempt whose answer is not
        the one returned (a failure part-way, an answer that does not validate) is discarded.
        """
        task = LlmTask(kind=kind, brief=brief, schema=schema)
        run = _Run(task, self._clock() + budget, watcher)
        for provider in self.providers:
            value = await self._ask(provider, schema, run)
            if value is not None:
                return Generated(value=value[0], draft=value[1], attempts=run.trail)
        raise self._exhausted(run)

    def _note(self, run: "_Run", provider: LlmProvider, outcome: Outcome, started: float) -> None:
        ms = round((self._clock() - started) * 1000)
        run.trail.append(ProviderAttempt(provider=provider.name, outcome=outcome, ms=ms))
        attributes = {ATTR_PROVIDER: provider.name, ATTR_OUTCOME: outcome.value}
        self._telemetry.count(PROVIDER_ATTEMPTS, 1, attributes)

    async def _call(
        self, provider: LlmProvider, task: LlmTask, watcher: DraftWatcher | None, seconds: float
    ) -> Draft:
        """One call to one provider, streamed to ``watcher`` (which drops it if it fails)."""
        try:
            return await self._told(provider, task, seconds, watcher.text if watcher else None)
        except Exception:
            if watcher is not None:
                await watcher.discard()
            raise

    async def _told(
        self, provider: LlmProvider, task: LlmTask, seconds: float, on_text: TextSink | None
    ) -> Draft:
        """One call to one provider, its outcome told to the provider's breaker."""
        if not provider.needs_network:
            return await self._span(provider, task, seconds, on_text)
        name = provider.name
        self._cooldowns.calling(name)
        try:
            draft = await self._span(provider, task, seconds, on_text)
        except ProviderRateLimited:
            self._cooldowns.unsettled(name)
            raise
        except (ProviderUnavailable, TimeoutError):
            self._trip(provider)
            raise
        except ProviderRejected as error:
            if error.auth:
                self._cooldowns.unsettled(name)
            else:
                self._cooldowns.answered(name)
            raise
        except BaseException:
            self._cooldowns.unsettled(name)
            raise
        self._cooldowns.answered(name)
        return draft

    def _trip(self, provider: LlmProvider) -> None:
        """Count a 5xx or timeout against the provider's breaker, and say so if it opens."""
        policy = self._policy
        trip = self._cooldowns.failed(provider.name, policy.breaker_failures, policy.breaker_rest)
        if trip is not None:
            attributes = {ATTR_PROVIDER: provider.name, ATTR_OUTCOME: trip.value}
            self._telemetry.count(PROVIDER_BREAKER_OPENS, 1, attributes)
        if trip is Trip.OPENED:
            log.warning(
                "provider %s failed %d times in a row; resting it for %.0f s",
                provider.name,
                policy.breaker_failures,
                policy.breaker_rest,
            )
        elif trip is Trip.REOPENED:
            log.info(
                "provider %s failed again after its rest; resting it for %.0f s more",
                provider.name,
                policy.breaker_rest,
            )

    async def _span(
        self, provider: LlmProvider, task: LlmTask, seconds: float, on_text: TextSink | None
    ) -> Draft:
        """One call to one provider, as a span with its model, outcome and tokens."""
        attributes = {ATTR_PROVIDER: provider.name, ATTR_MODEL: provider.model}
        with self._telemetry.span("llm.attempt", attributes) as span:
            call = provider.generate(task, time_limit=seconds, on_text=on_text)
            draft = await asyncio.wait_for(call, seconds)
            tokens = draft.usage
            span.set(
                {
                    ATTR_OUTCOME: "answered",
                    "skillsync.tokens.input": tokens.prompt_tokens if tokens else 0,
                    "skillsync.tokens.output": tokens.completion_tokens if tokens else 0,
                }
            )
            if tokens is not None:
                named = {ATTR_PROVIDER: provider.name}
                self._telemetry.count(
                    PROVIDER_TOKENS, tokens.prompt_tokens, {**named, "skillsync.direction": "input"}
                )
                self._telemetry.count(
                    PROVIDER_TOKENS,
                    tokens.completion_tokens,
                    {**named, "skillsync.direction": "output"},
                )
            return draft

    async def _ask(
        self, provider: LlmProvider, schema: type[M], run: "_Run"
    ) -> tuple[M, Draft] | None:
        """Up to four calls to one provider: the first, a Retry-After wait, a retry, a repair."""
        task, waited, retried = run.task, False, False
        while True:
            if provider.needs_network and not self._cooldowns.may_ask(provider.name):
                self._note(run, provider, Outcome.COOLING_DOWN, self._clock())
                return None
            left = run.deadline - self._clock()
            if provider.needs_network and left < MIN_ATTEMPT_SECONDS:
                self._note(run, provider, Outcome.NO_BUDGET, self._clock())
                return None
            timeout = self._policy.attempt_timeout
            if provider.needs_network:
                timeout = min(timeout, left)
            started = self._clock()
            try:
                draft = await self._call(provider, task, run.watcher, timeout)
            except ProviderRateLimited as error:
                self._note(run, provider, Outcome.RATE_LIMITED, started)
                wait = error.retry_after
                fits = (
                    wait is not None and wait + MIN_ATTEMPT_SECONDS < run.deadline - self._clock()
                )
                if wait is not None and fits and not waited:
                    waited = True
                    await self._sleep(wait)
                    continue
                self._cooldowns.rest(provider.name, wait or self._policy.rate_limit_rest)
                return None
            except (ProviderUnavailable, TimeoutError) as error:
                timed_out = isinstance(error, ProviderTimeout | TimeoutError)
                self._note(
                    run, provider, Outcome.TIMEOUT if timed_out else Outcome.UNAVAILABLE, started
                )
                pause = self._rng.uniform(*self._policy.retry_jitter)
                if retried or pause + MIN_ATTEMPT_SECONDS >= run.deadline - self._clock():
                    return None
                if not self._cooldowns.may_ask(provider.name):  # that failure opened its breaker
                    return None
                retried = True
                await self._sleep(pause)
                continue
            except ProviderRejected as error:
                outcome = Outcome.UNAUTHORIZED if error.auth else Outcome.REJECTED
                self._note(run, provider, outcome, started)
                if error.auth:
                    self._rest_misconfigured(provider, error.status)
                return None
            try:
                value = parse_json_as(
                    schema, draft.payload, what=f"{provider.name}'s answer", context=self._context
                )
            except ContentRejected as error:
                self._note(run, provider, Outcome.INVALID, started)
                log.info("provider %s gave an invalid answer: %s", provider.name, error)
                if run.watcher is not None:
                    await run.watcher.discard()
                if task.repair is not None:
                    return None
                task = replace(task, repair=Repair(draft.payload[:MAX_QUOTED_ANSWER], str(error)))
                continue
            self._note(run, provider, Outcome.OK, started)
            return value, draft

    def _rest_misconfigured(self, provider: LlmProvider, status: int) -> None:
        log.error(
            "provider %s refused the request (HTTP %s): check its key and model settings; "
            "not asking it again for %.0f s",
            provider.name,
            status,
            self._policy.auth_rest,
        )
        self._cooldowns.rest(provider.name, self._policy.auth_rest)

    def _exhausted(self, run: "_Run") -> Exception:
        summary = ", ".join(f"{a.provider} {a.outcome}" for a in run.trail)
        if not any(a.outcome in _PASSING for a in run.trail):
            # Every provider answered and refused or gave unusable JSON: the same request
            # would meet the same answers again, so this is final, not worth a redelivery.
            log.warning("no provider could answer: %s", summary)
            return NoValidAnswer(
                "None of the writing services could write this lesson; please try again.",
                run.trail,
            )
        rests = [self._cooldowns.remaining(p.name) for p in self.providers]
        return NoProviderSucceeded(
            f"every provider failed ({summary})",
            run.trail,
            retry_after=min((r for r in rests if r > 0), default=None),
        )


@dataclass
class _Run:
    """One task going down the chain: its deadline and the attempts so far."""

    task: LlmTask
    deadline: float
    watcher: DraftWatcher | None = None
    trail: list[ProviderAttempt] = field(default_factory=list)
