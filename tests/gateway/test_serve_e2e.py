"""`contact-gateway serve` and `contact-gateway sandbox` as real processes."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest

from sandbox import credentials
from tests.gateway.conftest import REPO
from tests.support import free_port

pytestmark = pytest.mark.e2e

CONTACTS = "{ contacts(first: 5) { edges { node { id email sources { provider remoteId } } } } }"
UPSERT = """mutation { upsertContact(input: {email: "new.person@example.com", firstName: "New",
  lastName: "Person", externalId: "u-1", accountExternalId: "a-1"}) {
    results { provider status message droppedFields }
    contact { id email sources { provider } } } }"""


@contextmanager
def running(*args: str) -> Iterator[subprocess.Popen[str]]:
    env = {
        key: value for key, value in os.environ.items() if not key.startswith("CONTACT_GATEWAY_")
    }
    # Show every warning the process would raise, so that the test can see none is.
    env.update(PYTHONPATH=str(REPO), PYTHONWARNINGS="default", PYTHONUNBUFFERED="1")
    process = subprocess.Popen(
        [sys.executable, "-m", "gateway.cli", *args],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()


def wait_ready(url: str, process: subprocess.Popen[str], timeout: float = 30) -> httpx.Response:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            _, err = process.communicate()
            pytest.fail(f"exited early with {process.returncode}:\n{err}")
        try:
            response = httpx.get(url, timeout=5)
            if response.status_code == 200:
                return response
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    pytest.fail(f"{url} not ready within {timeout}s")


def stop(process: subprocess.Popen[str], sig: signal.Signals) -> tuple[int, str, str]:
    process.send_signal(sig)
    started = time.monotonic()
    out, err = process.communicate(timeout=10)
    assert time.monotonic() - started < 5, "the process took too long to stop"
    return process.returncode, out, err


def test_serve_in_sandbox_mode_answers_queries_and_mutations_then_stops_cleanly() -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with running("serve", "--port", str(port), "--sandbox-port", "0") as process:
        ready = wait_ready(f"{base}/readyz", process)
        assert ready.json()["ready"] is True
        assert "server" not in ready.headers  # the server software is not advertised
        assert "date" in ready.headers

        listing = httpx.post(f"{base}/graphql", json={"query": CONTACTS}, timeout=30).json()
        written = httpx.post(f"{base}/graphql", json={"query": UPSERT}, timeout=30).json()
        again = httpx.post(
            f"{base}/graphql",
            json={"query": '{ contact(email: "NEW.person@example.com") { email firstName } }'},
            timeout=30,
        ).json()

        status, _, err = stop(process, signal.SIGTERM)

    assert "errors" not in listing, listing
    edges = listing["data"]["contacts"]["edges"]
    assert len(edges) == 5
    assert len({e["node"]["id"] for e in edges}) == 5
    assert all(e["node"]["sources"] for e in edges)

    assert "errors" not in written, written
    payload = written["data"]["upsertContact"]
    by_provider = {r["provider"]: r for r in payload["results"]}
    assert by_provider["ADAPTIX"]["status"] == "CREATED"
    assert by_provider["AKITA"]["status"] == "CREATED"
    assert all(r["status"] != "FAILED" for r in payload["results"]), payload
    assert payload["contact"]["email"] == "new.person@example.com"
    assert {"ADAPTIX"} <= {s["provider"] for s in payload["contact"]["sources"]}
    assert again["data"]["contact"] == {"email": "new.person@example.com", "firstName": "New"}

    assert status == 0, err
    assert "Traceback" not in err
    assert "Warning" not in err
    assert "level=warning" not in err, err
    assert "level=error" not in err, err
    assert "mode=sandbox sandbox_url=http://127.0.0.1:" in err
    assert f"password={credentials.ADAPTIX_PASSWORD}" in err, "sandbox credentials are shown"
    # One line a request: the access line carries the operation's fields.
    access = r"logger=contact_gateway.access request_id=[0-9a-f]{32} method=POST path=/graphql"
    assert re.search(access + r" status=200 client=127\.0\.0\.1:\d+ operation=query ", err)
    assert "logger=uvicorn.access" not in err
    assert "logger=contact_gateway.operation" not in err


def test_serve_stops_cleanly_on_sigint() -> None:
    port = free_port()
    with running("serve", "--port", str(port), "--sandbox-port", "0") as process:
        wait_ready(f"http://127.0.0.1:{port}/healthz", process)
        status, _, err = stop(process, signal.SIGINT)

    assert status == 0, err
    assert "Traceback" not in err
    assert "KeyboardInterrupt" not in err


def test_sandbox_command_prints_its_providers_and_serves_them() -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with running("sandbox", "--port", str(port), "--empty") as process:
        wait_ready(f"{base}/", process)
        records = httpx.get(f"{base}/adaptix/_sandbox/records").json()
        refused = httpx.get(f"{base}/adaptix/api/contacts")
        status, out, err = stop(process, signal.SIGTERM)

    assert records == {"records": []}
    assert refused.status_code == 401
    assert f"sandbox at {base}" in out
    for key, creds in credentials.describe().items():
        assert f"{base}/{key}{credentials.ROOTS[key]}" in out
        for value in creds.values():
            assert value in out
    assert status == 0, err
    assert "Traceback" not in err
