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
def test_the_access_line_and_the_operation_line_of_a_request_share_its_id(
    log_format: str,
) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    args = ["serve", "--port", str(port), "--sandbox-port", "0", "--log-format", log_format]
    with running(*args) as process:
        wait_ready(f"{base}/readyz", process)
        httpx.post(f"{base}/graphql", json={"query": QUERY}, headers={"x-request-id": "trace-me-1"})
        status, _, err = stop(process, signal.SIGTERM)

    assert status == 0, err
    lines = [line for line in err.splitlines() if "trace-me-1" in line]
    if log_format == "json":
        records = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
        assert len(records) == len(err.splitlines()), "every line is one JSON object"
        mine = [r for r in records if r.get("request_id") == "trace-me-1"]
        by_logger = {r["logger"]: r for r in mine}
        assert by_logger["uvicorn.access"]["path"] == "/graphql"
        assert by_logger["uvicorn.access"]["status"] == "200"
        assert by_logger["contact_gateway.operation"]["operation"] == "query"
        assert {"ts", "level", "logger"} <= set(by_logger["contact_gateway.operation"])
    else:
        assert any("logger=uvicorn.access request_id=trace-me-1 method=POST" in li for li in lines)
        assert any("logger=contact_gateway.operation request_id=trace-me-1" in li for li in lines)
