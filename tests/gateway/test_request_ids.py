"""Request ids on every response and every log line of the request; JSON log lines."""

from __future__ import annotations

import json
import re
import signal

import httpx
import pytest

from tests.gateway.test_serve_e2e import running, stop, wait_ready
from tests.support import free_port

QUERY = '{ contact(email: "ada.lovelace.0@stark.test") { email } }'


def test_every_response_has_a_request_id_and_a_sane_one_from_the_client_is_kept(
    gateway_url: str,
) -> None:
    fresh = httpx.post(f"{gateway_url}/graphql", json={"query": QUERY})
    other = httpx.post(f"{gateway_url}/graphql", json={"query": QUERY})
    kept = httpx.post(
        f"{gateway_url}/graphql", json={"query": QUERY}, headers={"x-request-id": "job-42:a.b_c"}
    )
    replaced = [
        httpx.get(f"{gateway_url}/healthz", headers={"x-request-id": bad})
        for bad in ("two words", "x" * 129, "semi;colon")
    ]
    refused = httpx.post(f"{gateway_url}/graphql", content=b"[1]", headers={"x-request-id": "r-1"})

    assert re.fullmatch(r"[0-9a-f]{32}", fresh.headers["x-request-id"])
    assert other.headers["x-request-id"] != fresh.headers["x-request-id"]
    assert kept.headers["x-request-id"] == "job-42:a.b_c"
    for response in replaced:
        assert re.fullmatch(r"[0-9a-f]{32}", response.headers["x-request-id"])
    assert refused.status_code == 400
    assert refused.headers["x-request-id"] == "r-1"


@pytest.mark.e2e
@pytest.mark.parametrize("log_format", ["json", "text"])
def test_each_request_is_one_access_line_with_its_id_and_its_operation(
    log_format: str,
) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    args = ["serve", "--port", str(port), "--sandbox-port", "0", "--log-format", log_format]
    with running(*args) as process:
        wait_ready(f"{base}/readyz", process)
        httpx.post(f"{base}/graphql", json={"query": QUERY}, headers={"x-request-id": "trace-me-1"})
        httpx.post(f"{base}/graphql", json={"query": "{ nope }"}, headers={"x-request-id": "bad-1"})
        httpx.get(f"{base}/healthz?probe=1%25", headers={"x-request-id": "probe-1"})
        status, _, err = stop(process, signal.SIGTERM)

    assert status == 0, err
    if log_format == "json":
        records = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
        assert len(records) == len(err.splitlines()), "every line is one JSON object"
    else:
        records = [_pairs(line) for line in err.splitlines()]
    by_id = {}
    for r in records:
        if "request_id" in r:
            assert r["request_id"] not in by_id, f"one line a request: {r}"
            by_id[r["request_id"]] = r
    looked_up = by_id["trace-me-1"]
    assert looked_up["logger"] == "contact_gateway.access"
    assert (looked_up["method"], looked_up["path"], looked_up["status"]) == (
        "POST",
        "/graphql",
        "200",
    )
    assert looked_up["client"].startswith("127.0.0.1:")
    assert looked_up["operation"] == "query"
    assert looked_up["provider_calls"] != "none"
    assert looked_up["level"] == "info"
    # A client's mistake: the operation's warning is the line's level.
    refused = by_id["bad-1"]
    assert (refused["level"], refused["errors"]) == ("warning", "GRAPHQL_VALIDATION_FAILED")
    # No operation: the access fields alone (the query string as sent).
    probe = by_id["probe-1"]
    assert (probe["path"], probe["status"]) == ("/healthz?probe=1%25", "200")
    assert "operation" not in probe


def _pairs(line: str) -> dict[str, str]:
    return {k: v.strip('"') for k, v in re.findall(r'([a-z_]+)=("[^"]*"|\S*)', line)}
