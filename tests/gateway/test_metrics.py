"""`/metrics`: what the gateway counts, as a Prometheus scraper reads it."""

from __future__ import annotations

import signal
import time
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from gateway.config import read_document
from sandbox.app import Sandbox
from sandbox.config import sandbox_document
from tests.gateway.conftest import serve_gateway
from tests.gateway.test_serve_e2e import running, stop, wait_ready
from tests.support import SANDBOX_URL, free_port, fresh_store_url

FIND = 'query Find { contact(email: "ada.lovelace.0@stark.test") { email sources { provider } } }'
UPSERT = """mutation Save($input: ContactInput!) { upsertContact(input: $input,
  providers: [ADAPTIX]) { results { status } } }"""


def scrape(url: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = httpx.get(f"{url}/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=")
    samples = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples: dict[Any, float], name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def total(samples: dict[Any, float], name: str, **labels: str) -> float:
    """The sum over every sample of `name` whose labels include `labels`."""
    return sum(
        v for (n, found), v in samples.items() if n == name and set(labels.items()) <= set(found)
    )


def sandbox_calls(sandbox: Sandbox) -> int:
    return sum(sum(e.stats.requests.values()) for e in sandbox.emulators.values())


def test_an_operation_and_its_provider_calls_are_counted(sandbox: Sandbox) -> None:
    with serve_gateway(sandbox) as url:
        before = scrape(url)
        calls = sandbox_calls(sandbox)
        answer = httpx.post(f"{url}/graphql", json={"query": FIND})
        after = scrape(url)
    made = sandbox_calls(sandbox) - calls

    assert "errors" not in answer.json()
    ops = "contact_gateway_operations_total"
    assert (
        value(after, ops, operation="Find", type="query", outcome="ok")
        - value(before, ops, operation="Find", type="query", outcome="ok")
        == 1
    )
    counted = total(after, "contact_gateway_provider_calls_total") - total(
        before, "contact_gateway_provider_calls_total"
    )
    assert made > 0
    assert counted == made
    seconds = "contact_gateway_operation_duration_seconds_count"
    assert value(after, seconds, type="query") - value(before, seconds, type="query") == 1
    latency = "contact_gateway_provider_call_duration_seconds_count"
    assert total(after, latency) - total(before, latency) == made


def test_refusals_rate_limits_and_write_legs_are_counted(sandbox: Sandbox) -> None:
    aliased = "{ " + " ".join(f"a{i}: __typename" for i in range(31)) + " }"
    with serve_gateway(sandbox) as url:
        before = scrape(url)
        httpx.post(f"{url}/graphql", json={"query": aliased})
        sandbox.emulators["adaptix"].controls.outage = True
        httpx.post(
            f"{url}/graphql",
            json={"query": UPSERT, "variables": {"input": {"email": "counted@example.com"}}},
        )
        sandbox.emulators["adaptix"].controls.outage = False
        after = scrape(url)

    limit = "contact_gateway_limit_rejections_total"
    assert (
        value(after, limit, limit="max_root_fields") - value(before, limit, limit="max_root_fields")
        == 1
    )
    ops = "contact_gateway_operations_total"
    assert total(after, ops, outcome="refused") - total(before, ops, outcome="refused") == 1
    legs = "contact_gateway_write_legs_total"
    queued = {"provider": "adaptix", "status": "queued"}
    assert value(after, legs, **queued) - value(before, legs, **queued) == 1
    calls = "contact_gateway_provider_calls_total"
    assert total(after, calls, provider="adaptix", outcome="5xx") > total(
        before, calls, provider="adaptix", outcome="5xx"
    )


def test_the_queue_of_legs_to_retry_is_measured(sandbox: Sandbox) -> None:
    document = sandbox_document(SANDBOX_URL)
    document["store"] = {"url": fresh_store_url()}
    document["writes"] = {"poll_interval": 0.05, "first_retry": 3600}
    settings = read_document(document, source="test")
    sandbox.emulators["adaptix"].controls.outage = True
    with serve_gateway(sandbox, settings) as url:
        httpx.post(
            f"{url}/graphql",
            json={"query": UPSERT, "variables": {"input": {"email": "waits@example.com"}}},
        )
        deadline = time.monotonic() + 5
        while value(samples := scrape(url), "contact_gateway_queued_legs") < 1:
            assert time.monotonic() < deadline, "the queue was never measured"
            time.sleep(0.1)

    assert value(samples, "contact_gateway_queued_legs") == 1
    assert value(samples, "contact_gateway_oldest_queued_leg_age_seconds") >= 0


@pytest.mark.e2e
def test_with_two_workers_metrics_add_up_every_workers_counts() -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    args = ["serve", "--port", str(port), "--sandbox-port", "0", "--workers", "2"]
    with running(*args) as process:
        wait_ready(f"{base}/readyz", process)
        try:
            for _ in range(20):
                # A new connection each time, so both workers answer some.
                httpx.post(f"{base}/graphql", json={"query": FIND}, headers={"Connection": "close"})
            scrapes = [scrape(base) for _ in range(4)]
        finally:
            status, _, err = stop(process, signal.SIGTERM)

    ops = "contact_gateway_operations_total"
    counted = [value(s, ops, operation="Find", type="query", outcome="ok") for s in scrapes]
    assert counted == [20, 20, 20, 20], counted
    assert status == 0, err
