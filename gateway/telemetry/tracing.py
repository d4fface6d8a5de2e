"""OpenTelemetry traces, off unless `[telemetry]` turns them on.

    [telemetry]
    otlp_endpoint = "http://otel-collector:4318/v1/traces"
    service_name = "contact-gateway"
    sample_ratio = 0.1

One span per HTTP request (the ASGI instrumentation, which continues an
incoming `traceparent`), one per GraphQL operation inside it, and one per
provider call (made by `connectors.http` around each call, or by the httpx
instrumentation around a transport given to the app; both send `traceparent`
on). A provider call's span is named `<provider> <METHOD> <route>` and carries
the route with its ids replaced by `{id}` and no query string, so no email or id
of a person reaches the traces.
Sampling follows the caller's decision when a `traceparent` came, else
`sample_ratio`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import httpx
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult
from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased
from opentelemetry.trace import Span, Tracer

# A path segment that names one record: digits, an email, or a long token with a digit.
_ID_SEGMENT = re.compile(r"^(?:\d+|[^/]*@[^/]*|(?=[^/]*\d)[A-Za-z0-9_-]{8,})$")


@dataclass(frozen=True, slots=True)
class TelemetrySettings:
    """`[telemetry]`: where traces go.

    Args:
        otlp_endpoint: an OTLP/HTTP traces endpoint; None: no traces (unless `exporter`
            is "none").
        service_name: the `service.name` of every span.
        sample_ratio: the share of traces kept where no caller decided (0 to 1).
        exporter: "otlp", or "none" to make and drop every span (what tracing costs,
            without a collector).
    """

    otlp_endpoint: str | None = None
    service_name: str = "contact-gateway"
    sample_ratio: float = 1.0
    exporter: str = "otlp"

    @property
    def enabled(self) -> bool:
        return self.otlp_endpoint is not None or self.exporter == "none"


class _Dropped(SpanExporter):
    """Takes every span and keeps none."""

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        return SpanExportResult.SUCCESS


def tracer_provider(
    settings: TelemetrySettings, *, exporter: SpanExporter | None = None
) -> TracerProvider | None:
    """A tracer provider for `settings`; None when traces are off. `exporter` replaces
    the configured one (tests keep spans in memory)."""
    if not settings.enabled and exporter is None:
        return None
    provider = TracerProvider(
        resource=Resource.create({"service.name": settings.service_name}),
        sampler=ParentBased(TraceIdRatioBased(settings.sample_ratio)),
    )
    if exporter is None:
        if settings.exporter == "none":
            exporter = _Dropped()
        else:
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

            exporter = OTLPSpanExporter(endpoint=settings.otlp_endpoint)
    provider.add_span_processor(BatchSpanProcessor(exporter))
    return provider


def route(path: str) -> str:
    """A provider path with the segments that name a record replaced by `{id}`."""
    return "/".join("{id}" if _ID_SEGMENT.match(part) else part for part in path.split("/"))


def provider_call_name(provider: str) -> Callable[[str, httpx.URL], str]:
    """A provider call's span name: `<provider> <METHOD> <route>`."""

    def name(method: str, url: httpx.URL) -> str:
        return f"{provider} {method} {route(url.path)}"

    return name


def describe_provider_call(span: Span, provider: str, method: str, url: httpx.URL) -> None:
    """A provider call's attributes: its URL without ids or query string, its route."""
    template = route(url.path)
    bare = f"{url.scheme}://{url.netloc.decode('ascii')}{template}"
    span.set_attribute("http.request.method", method)
    span.set_attribute("url.full", bare)  # semantic conventions, new and old
    span.set_attribute("http.url", bare)
    span.set_attribute("http.route", template)
    span.set_attribute("contact_gateway.provider", provider)


def provider_call_hook(provider: str) -> Any:
    """The httpx instrumentation's request hook for one provider's client (a transport
    given to the app; the gateway's own makes its spans in `connectors.http`)."""
    named = provider_call_name(provider)

    async def hook(span: Span, request: Any) -> None:
        if not span.is_recording():
            return
        method = request.method.decode() if isinstance(request.method, bytes) else request.method
        url = httpx.URL(str(request.url))
        span.update_name(named(method, url))
        describe_provider_call(span, provider, method, url)

    return hook


def server_request_hook(span: Span, scope: dict[str, Any]) -> None:
    """The ASGI instrumentation's hook: the request's URL without its query string (a GET
    query carries the document and its variables)."""
    if not span.is_recording():
        return
    path = scope.get("path", "")
    span.set_attribute("http.target", path)
    span.set_attribute("url.path", path)
    if scope.get("query_string"):
        span.set_attribute("url.query", "")
        server = scope.get("server") or ("", "")
        host = f"{server[0]}:{server[1]}" if server[0] else ""
        span.set_attribute("http.url", f"{scope.get('scheme', 'http')}://{host}{path}")


def tracer(provider: TracerProvider | None) -> Tracer | None:
    return provider.get_tracer("contact_gateway") if provider is not None else None
