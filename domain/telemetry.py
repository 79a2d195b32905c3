"""What the application reports about itself, as a port: spans, counters and durations by name.

The domain says what happened (a stage, an outcome, a duration) through ``Telemetry``; the
OpenTelemetry adapter (``adapters/telemetry.py``) turns it into spans and metrics for Application
Insights. Attribute values must never carry a token, a key, learner text or lesson content: only
ids, names of providers, sources, stages and outcomes, counts and durations. User ids are hashed
by the adapter (``ATTR_USER``).

The metric names below are what lands in ``customMetrics`` in Application Insights; the alerts
and the workbook (``infra/app/alerts.bicep``, ``infra/app/workbook.json``) query exactly these,
and ``tests/infra/test_monitoring.py`` checks that they do.
"""

from collections.abc import Mapping, Sequence
from enum import StrEnum
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from domain.lesson import Lesson

LESSONS_COMPLETED = "skillsync.lessons.completed"  # counter: provider
LESSONS_FAILED = "skillsync.lessons.failed"  # counter: provider, reason
LESSONS_POISONED = "skillsync.lessons.poisoned"  # counter
LESSON_FALLBACKS = "skillsync.lessons.fallbacks"  # counter: provider (the one that wrote it)
LESSON_CACHE_LOOKUPS = "skillsync.lesson_cache"  # counter: outcome (hit|miss|error)
PROVIDER_ATTEMPTS = "skillsync.provider.attempts"  # counter: provider, outcome
PROVIDER_BREAKER_OPENS = "skillsync.provider.breaker_opens"  # counter: provider, outcome
PROVIDER_TOKENS = "skillsync.provider.tokens"  # counter: provider, direction (input|output)
GENERATION_DURATION = "skillsync.generation.duration"  # histogram, ms: provider
QUEUE_WAIT = "skillsync.queue.wait"  # histogram, ms: from requestedAt to pickup
TIME_TO_LESSON = "skillsync.lesson.time_to_lesson"  # histogram, ms: requestedAt to completed
RESEARCH_SOURCES = "skillsync.research.sources"  # counter: source, outcome
RESEARCH_CACHE = "skillsync.research.cache"  # counter: outcome (hit|miss)
QUOTA_REFUSALS = "skillsync.quota.refusals"  # counter: kind
SWEEPER_REPAIRS = "skillsync.sweeper.repairs"  # counter: action (requeued|failed)
QUEUE_DEPTH = "skillsync.queue.depth"  # gauge: queue

ATTR_LESSON = "skillsync.lesson_id"
ATTR_ROADMAP = "skillsync.roadmap_id"
ATTR_USER = "skillsync.user_hash"
ATTR_PROVIDER = "skillsync.provider"
ATTR_MODEL = "skillsync.model"
ATTR_OUTCOME = "skillsync.outcome"
ATTR_STAGE = "skillsync.stage"
ATTR_SOURCE = "skillsync.source"

Attributes = Mapping[str, str | int | float | bool]
# W3C trace context (``traceparent``, ``tracestate``) as it travels in a message or a header.
Carrier = Mapping[str, str]


class SpanKind(StrEnum):
    """What a span stands for; Application Insights files SERVER and CONSUMER as requests."""

    INTERNAL = "internal"
    SERVER = "server"  # an HTTP request we answer
    CONSUMER = "consumer"  # a queue message we process
    PRODUCER = "producer"  # a queue message we send


class Telemetry(Protocol):
    """Where the domain reports what it did. Every method must be cheap and never raise."""

    def span(
        self,
        name: str,
        attributes: Attributes | None = None,
        *,
        kind: SpanKind = SpanKind.INTERNAL,
        parent: Carrier | None = None,
        links: Sequence[Carrier] = (),
    ) -> "SpanScope":
        """A context manager timing one step; ``SpanScope.set`` adds attributes later.

        ``parent`` continues a trace carried from elsewhere (a request header, a queue message);
        ``links`` point at related traces (the original request of a re-sent message).
        """
        ...

    def carrier(self) -> dict[str, str]:
        """The current trace context, to send along with a message (empty when not tracing)."""
        ...

    def user(self, user_id: str) -> str:
        """A user id as telemetry may show it: hashed, so it cannot be read back."""
        ...

    def count(self, metric: str, value: int = 1, attributes: Attributes | None = None) -> None:
        """Add ``value`` to a counter."""
        ...

    def record(self, metric: str, value: float, attributes: Attributes | None = None) -> None:
        """Record one value of a histogram (durations in milliseconds)."""
        ...

    def gauge(self, metric: str, value: float, attributes: Attributes | None = None) -> None:
        """Report the current value of a gauge."""
        ...


class SpanScope(Protocol):
    """An open span: a context manager that can be given attributes while it runs."""

    def __enter__(self) -> "SpanScope": ...

    def __exit__(self, *exc: object) -> None: ...

    def set(self, attributes: Attributes) -> None:
        """Add attributes to the span."""
        ...


class _NoSpan:
    def __enter__(self) -> "_NoSpan":
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def set(self, attributes: Attributes) -> None:
        return None


class NoTelemetry:
    """Reports nothing: the default, and what runs without Application Insights."""

    def span(
        self,
        name: str,
        attributes: Attributes | None = None,
        *,
        kind: SpanKind = SpanKind.INTERNAL,
        parent: Carrier | None = None,
        links: Sequence[Carrier] = (),
    ) -> SpanScope:
        """A span that records nothing."""
        return _NoSpan()

    def carrier(self) -> dict[str, str]:
        """No trace to carry."""
        return {}

    def user(self, user_id: str) -> str:
        """Nothing is reported, so nothing to hash."""
        return ""

    def count(self, metric: str, value: int = 1, attributes: Attributes | None = None) -> None:
        """Nothing."""

    def record(self, metric: str, value: float, attributes: Attributes | None = None) -> None:
        """Nothing."""

    def gauge(self, metric: str, value: float, attributes: Attributes | None = None) -> None:
        """Nothing."""


def report_completed(telemetry: Telemetry, lesson: "Lesson", duration_ms: float) -> None:
    """The metrics of a lesson just written: by whom, how long, and whether it fell back."""
    provider = {ATTR_PROVIDER: lesson.provider or "unknown"}
    telemetry.count(LESSONS_COMPLETED, 1, provider)
    telemetry.record(GENERATION_DURATION, duration_ms, provider)
    if lesson.queued_at is not None and lesson.generated_at is not None:
        waited = (lesson.generated_at - lesson.queued_at).total_seconds() * 1000
        telemetry.record(TIME_TO_LESSON, max(0.0, waited), provider)
    if lesson.attempts and lesson.attempts[0].provider != lesson.provider:
        telemetry.count(LESSON_FALLBACKS, 1, provider)
