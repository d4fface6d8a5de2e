"""OpenTelemetry traces: a span per request, per operation and per provider call; an
incoming traceparent continued and sent on; no person's data in any span."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from gateway.app import create_app
from gateway.telemetry.tracing import route
from sandbox.app import Sandbox
from tests.support import SANDBOX_URL, gateway_settings, serve_in_thread

TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT = f"00-{TRACE}-00f067aa0ba902b7-01"
FIND = 'query Find { contact(email: "ada.lovelace.0@stark.test") { email sources { provider } } }'


class Recording(httpx.AsyncBaseTransport):
    """The in-process sandbox, remembering the headers of every request sent to it."""

    def __init__(self, app: Any) -> None:
        self.inner = httpx.ASGITransport(app=app)
        self.headers: list[httpx.Headers] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.headers.append(request.headers)
        return await self.inner.handle_async_request(request)


@contextmanager
def traced(sandbox: Sandbox) -> Iterator[tuple[str, InMemorySpanExporter, Recording]]:
    spans = InMemorySpanExporter()
    transport = Recording(sandbox.app)
    app = create_app(gateway_settings(SANDBOX_URL), transport=transport, span_exporter=spans)
    with serve_in_thread(app) as url:
        # The first background health check's calls are traces of their own.
        while httpx.get(f"{url}/readyz").json()["store"]["message"] == "not checked yet":
            time.sleep(0.01)
        transport.headers.clear()
        yield url, spans, transport


def test_a_request_is_one_trace_continued_from_the_caller_and_sent_on(sandbox: Sandbox) -> None:
    with traced(sandbox) as (url, spans, transport):
        answer = httpx.post(f"{url}/graphql", json={"query": FIND}, headers={"traceparent": PARENT})
        sent = list(transport.headers)
        as_get = httpx.get(
            f"{url}/graphql",
            params={"query": FIND},
            headers={"traceparent": PARENT, "content-type": "application/json"},
        )
    finished = spans.get_finished_spans()

    assert "errors" not in answer.json()
    assert "errors" not in as_get.json()
    mine = [s for s in finished if format(s.context.trace_id, "032x") == TRACE]
    names = [s.name for s in mine]
    assert "POST /graphql" in names
    assert "graphql query Find" in names
    calls = [s for s in mine if s.attributes and s.attributes.get("contact_gateway.provider")]
    assert {s.attributes["contact_gateway.provider"] for s in calls} >= {
        "adaptix",
        "trustmary",
        "lunarsend",
    }
    operations = [s for s in mine if s.name == "graphql query Find"]
    assert len(operations) == 2  # the POST and the GET
    assert all(
        o.attributes and o.attributes["graphql.operation.type"] == "query" for o in operations
    )
    # Each provider call is a child of its operation's span.
    parents = {o.context.span_id for o in operations}
    assert all(s.parent is not None and s.parent.span_id in parents for s in calls)
    # Every provider request carried the trace on.
    carried = [h.get("traceparent", "") for h in sent]
    assert carried
    assert all(value.startswith(f"00-{TRACE}-") for value in carried)
    # No email, and no query string, in any span.
    everything = repr([(s.name, dict(s.attributes or {})) for s in finished])
    assert "ada.lovelace" not in everything
    assert "?" not in "".join(str((s.attributes or {}).get("url.full", "")) for s in calls)


class Listening:
    """The sandbox as an ASGI app that remembers the headers of every request."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.headers: list[dict[str, str]] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            self.headers.append({k.decode(): v.decode() for k, v in scope["headers"]})
        await self.app(scope, receive, send)


def test_provider_calls_over_sockets_are_spans_that_send_the_trace_on(sandbox: Sandbox) -> None:
    # The gateway's own HTTP stack (aiohttp), not a transport given to the app.
    spans = InMemorySpanExporter()
    listening = Listening(sandbox.app)
    with serve_in_thread(listening) as providers:
        app = create_app(gateway_settings(f"{providers}/"), span_exporter=spans)
        with serve_in_thread(app) as url:
            listening.headers.clear()
            answer = httpx.post(
                f"{url}/graphql", json={"query": FIND}, headers={"traceparent": PARENT}
            )
            sent = [h.get("traceparent", "") for h in listening.headers]
    finished = spans.get_finished_spans()

    assert answer.json()["data"]["contact"]["email"] == "ada.lovelace.0@stark.test"
    mine = [s for s in finished if format(s.context.trace_id, "032x") == TRACE]
    operation = next(s for s in mine if s.name == "graphql query Find")
    calls = [s for s in mine if s.attributes and s.attributes.get("contact_gateway.provider")]
    assert {s.attributes["contact_gateway.provider"] for s in calls} >= {
        "adaptix",
        "trustmary",
        "lunarsend",
    }
    assert all(
        s.parent is not None and s.parent.span_id == operation.context.span_id for s in calls
    )
    assert all(s.name.split(" ")[1] == "GET" for s in calls)
    assert all((s.attributes or {}).get("http.response.status_code") == 200 for s in calls)
    # Each request carried the trace on, with its own span as the parent.
    carried = {value.split("-")[2] for value in sent if value.startswith(f"00-{TRACE}-")}
    assert carried == {format(s.context.span_id, "016x") for s in calls}
    everything = repr([(s.name, dict(s.attributes or {})) for s in finished])
    assert "ada.lovelace" not in everything
    assert "?" not in "".join(str((s.attributes or {}).get("url.full", "")) for s in calls)


def test_without_telemetry_no_span_is_made_and_nothing_is_sent(sandbox: Sandbox) -> None:
    transport = Recording(sandbox.app)
    app = create_app(gateway_settings(SANDBOX_URL), transport=transport)
    with serve_in_thread(app) as url:
        httpx.post(f"{url}/graphql", json={"query": FIND}, headers={"traceparent": PARENT})

    assert transport.headers
    assert all("traceparent" not in h for h in transport.headers)


def test_routes_keep_no_id_or_email() -> None:
    assert route("/api/contacts/181/edit") == "/api/contacts/{id}/edit"
    assert route("/v1/contacts/ErAeRhh4A1") == "/v1/contacts/{id}"
    assert route("/api/contacts/ada@example.test") == "/api/contacts/{id}"
    assert route("/v1/lists") == "/v1/lists"
    assert route("/api/contacts/batch/new") == "/api/contacts/batch/new"
