"""Telemetry through OpenTelemetry, exported to Application Insights by azure-monitor-opentelemetry.

``configure_telemetry(settings)`` is called once per worker process. Without
``APPLICATIONINSIGHTS_CONNECTION_STRING`` it returns ``NoTelemetry`` and imports nothing of
OpenTelemetry's exporters. With it, ``configure_azure_monitor`` sets up traces, metrics and logs
(Azure SDK and httpx calls become dependency spans); in Azure, where the Application Insights
resource refuses local auth, ingestion signs in with the app's managed identity.

``OpenTelemetryReporter`` implements the domain's ``Telemetry`` port on the global (or given)
providers, so tests run it on an in-memory exporter.
"""

import hashlib
import logging
from collections.abc import Mapping, Sequence
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import metrics, trace
from opentelemetry.propagate import extract, inject
from opentelemetry.trace import Link, Status, StatusCode

from adapters.settings import Settings
from domain.telemetry import Attributes, Carrier, NoTelemetry, SpanKind, SpanScope, Telemetry

log = logging.getLogger(__name__)

SCOPE = "skillsync"
_KINDS = {
    SpanKind.INTERNAL: trace.SpanKind.INTERNAL,
    SpanKind.SERVER: trace.SpanKind.SERVER,
    SpanKind.CONSUMER: trace.SpanKind.CONSUMER,
    SpanKind.PRODUCER: trace.SpanKind.PRODUCER,
}


def configure_telemetry(settings: Settings) -> Telemetry:
    """The process's telemetry: Application Insights when configured, else nothing."""
    # The Azure SDKs log every request at INFO: quiet, in Azure as locally.
    logging.getLogger("azure").setLevel(logging.WARNING)
    if settings.applicationinsights_connection_string is None:
        return NoTelemetry()
    from azure.monitor.opentelemetry import configure_azure_monitor  # heavy: only when used

    options: dict[str, Any] = {
        "connection_string": settings.applicationinsights_connection_string.get_secret_value()
    }
    if settings.azure_client_id is not None:  # Azure: local auth is off, sign in as the app
        from azure.identity import ManagedIdentityCredential

        options["credential"] = ManagedIdentityCredential(client_id=settings.azure_client_id)
    configure_azure_monitor(**options)
    log.info("telemetry goes to Application Insights")
    return OpenTelemetryReporter()


class _Span:
    """An open OpenTelemetry span as the domain's ``SpanScope``."""

    def __init__(self, tracer: trace.Tracer, name: str, options: dict[str, Any]) -> None:
        self._manager = tracer.start_as_current_span(name, **options)
        self._span: trace.Span = trace.INVALID_SPAN

    def __enter__(self) -> "_Span":
        self._span = self._manager.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        if exc[0] is not None:
            # The error's type says enough; its message may quote learner input.
            self._span.set_status(Status(StatusCode.ERROR, exc[0].__name__))
        self._manager.__exit__(None, None, None)

    def set(self, attributes: Attributes) -> None:
        self._span.set_attributes(dict(attributes))


class OpenTelemetryReporter:
    """The ``Telemetry`` port on OpenTelemetry's tracer and meter."""

    def __init__(
        self,
        tracer_provider: trace.TracerProvider | None = None,
        meter_provider: metrics.MeterProvider | None = None,
    ) -> None:
        self._tracer = trace.get_tracer(SCOPE, tracer_provider=tracer_provider)
        self._meter = metrics.get_meter(SCOPE, meter_provider=meter_provider)
        self._counters: dict[str, metrics.Counter] = {}
        self._histograms: dict[str, metrics.Histogram] = {}
        self._gauges: dict[str, metrics._Gauge] = {}  # synchronous gauge (API 1.23+)

    def span(
        self,
        name: str,
        attributes: Attributes | None = None,
        *,
        kind: SpanKind = SpanKind.INTERNAL,
        parent: Carrier | None = None,
        links: Sequence[Carrier] = (),
    ) -> SpanScope:
        """A span; ``parent`` continues a carried trace, ``links`` point at others."""
        options: dict[str, Any] = {
            "kind": _KINDS[kind],
            "attributes": dict(attributes or {}),
            "record_exception": False,  # exception messages may quote learner input
            "set_status_on_exception": False,
        }
        if parent:
            options["context"] = extract(dict(parent))
        span_links = [_link(carried) for carried in links]
        options["links"] = [link for link in span_links if link is not None]
        return _Span(self._tracer, name, options)

    def carrier(self) -> dict[str, str]:
        """``traceparent`` (and ``tracestate``) of the current span."""
        carried: dict[str, str] = {}
        inject(carried)
        return carried

    def user(self, user_id: str) -> str:
        """The first 16 hex digits of the id's SHA-256: stable, not reversible."""
        return hashlib.sha256(user_id.encode()).hexdigest()[:16]

    def count(self, metric: str, value: int = 1, attributes: Attributes | None = None) -> None:
        """Add to a counter."""
        counter = self._counters.get(metric)
        if counter is None:
            counter = self._counters[metric] = self._meter.create_counter(metric)
        counter.add(value, dict(attributes or {}))

    def record(self, metric: str, value: float, attributes: Attributes | None = None) -> None:
        """Record a histogram value (milliseconds for durations)."""
        histogram = self._histograms.get(metric)
        if histogram is None:
            histogram = self._histograms[metric] = self._meter.create_histogram(metric, unit="ms")
        histogram.record(value, dict(attributes or {}))

    def gauge(self, metric: str, value: float, attributes: Attributes | None = None) -> None:
        """Set a gauge."""
        gauge = self._gauges.get(metric)
        if gauge is None:
            gauge = self._gauges[metric] = self._meter.create_gauge(metric)
        gauge.set(value, dict(attributes or {}))


def _link(carried: Mapping[str, str]) -> Link | None:
    span = trace.get_current_span(extract(dict(carried), context=otel_context.Context()))
    context = span.get_span_context()
    return Link(context) if context.is_valid else None
