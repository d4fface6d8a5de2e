"""Provider rate limits that hold for the whole deployment: two instances sharing
PostgreSQL and Redis, and one instance with two workers, against a sandbox that
answers 429 past the limit."""

from __future__ import annotations

import asyncio
import signal
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from sandbox.app import Sandbox
from sandbox.config import sandbox_document, to_toml
from tests.gateway.test_metrics import scrape, total
from tests.gateway.test_serve_e2e import running, stop, wait_ready
from tests.storage import database_url, redis_prefix
from tests.support import free_port, serve_in_thread

pytestmark = pytest.mark.e2e

LIMIT = {"requests": 4, "per_seconds": 1}
FIND = "query($email: String!) { contact(email: $email) { id email } }"


@pytest.fixture
def sandbox_url(sandbox: Sandbox) -> Iterator[str]:
    """The seeded sandbox under uvicorn, Lunar Send answering 429 past 4 requests a second."""
    with serve_in_thread(sandbox.app) as url:
        response = httpx.post(f"{url}/lunarsend/_sandbox/controls", json={"rate_limit": LIMIT})
        assert response.is_success
        yield url


def config(tmp_path: Path, name: str, sandbox_url: str, **sections: Any) -> Path:
    document = sandbox_document(sandbox_url, ["lunarsend", "adaptix"])
    document["providers"]["lunarsend"]["rate_limit"] = dict(LIMIT)
    document.update(sections)
    path = tmp_path / f"{name}.toml"
    path.write_text(to_toml(document))
    return path


def lookups(base: str, emails: list[str]) -> list[dict[str, Any]]:
    """Every lookup at once, each on a connection of its own (so that the workers of
    one instance share them)."""

    async def all_at_once() -> list[dict[str, Any]]:
        fresh = httpx.Limits(max_keepalive_connections=0)
        async with httpx.AsyncClient(base_url=base, timeout=60, limits=fresh) as http:
            answers = await asyncio.gather(
                *(
                    http.post("/graphql", json={"query": FIND, "variables": {"email": e}})
                    for e in emails
                )
            )
        return [a.json() for a in answers]

    return asyncio.run(all_at_once())


def codes(answers: list[dict[str, Any]]) -> list[str]:
    return [e["extensions"]["code"] for a in answers for e in a.get("errors", [])]


def lunarsend_calls(sandbox: Sandbox) -> int:
    return sum(sandbox.emulators["lunarsend"].stats.requests.values())


async def test_two_instances_share_postgresql_and_redis_and_never_earn_a_429(
    tmp_path: Path, sandbox: Sandbox, sandbox_url: str
) -> None:
    async with database_url("postgresql", tmp_path) as store, redis_prefix() as (redis, prefix):
        shared = {"store": {"url": store}, "redis": {"url": redis, "prefix": prefix}}
        path = config(tmp_path, "shared", sandbox_url, **shared)
        found = await asyncio.to_thread(two_instances, path, sandbox)

    assert codes(found["answers"]) == []
    assert all(a["data"]["contact"] is None for a in found["answers"])
    assert found["made"] == 12  # one search per lookup, none refused and sent again
    assert found["refused"] == [0, 0]
    assert found["resolved"] == {"id": found["minted"]["id"], "email": "ada.lovelace.0@stark.test"}


def two_instances(path: Path, sandbox: Sandbox) -> dict[str, Any]:
    """Two `serve` processes on one configuration, driven at once."""
    ports = [free_port(), free_port()]
    bases = [f"http://127.0.0.1:{port}" for port in ports]
    with (
        running("serve", "--config", str(path), "--port", str(ports[0])) as one,
        running("serve", "--config", str(path), "--port", str(ports[1])) as two,
    ):
        wait_ready(f"{bases[0]}/readyz", one)
        wait_ready(f"{bases[1]}/readyz", two)
        time.sleep(0.5)  # their first health checks
        before = lunarsend_calls(sandbox)
        with ThreadPoolExecutor(2) as pool:
            runs = [
                pool.submit(lookups, base, [f"nobody.{n}.{i}@example.com" for i in range(6)])
                for n, base in enumerate(bases)
            ]
            answers = runs[0].result() + runs[1].result()
        made = lunarsend_calls(sandbox) - before
        refused = [
            total(
                scrape(base),
                "contact_gateway_provider_calls_total",
                provider="lunarsend",
                outcome="429",
            )
            for base in bases
        ]
        minted = lookups(bases[0], ["ada.lovelace.0@stark.test"])[0]["data"]["contact"]
        resolved = httpx.post(
            f"{bases[1]}/graphql",
            json={
                "query": "query($id: ID!) { node(id: $id) { id ... on Contact { email } } }",
                "variables": {"id": minted["id"]},
            },
        ).json()["data"]["node"]
        for process in (one, two):
            status, _, err = stop(process, signal.SIGTERM)
            assert status == 0, err
    return {
        "answers": answers,
        "made": made,
        "refused": refused,
        "minted": minted,
        "resolved": resolved,
    }


def test_two_workers_without_redis_split_the_limit_and_never_earn_a_429(
    tmp_path: Path, sandbox: Sandbox, sandbox_url: str
) -> None:
    path = config(tmp_path, "workers", sandbox_url, store={"url": f"sqlite:///{tmp_path / 's.db'}"})
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with running("serve", "--config", str(path), "--port", str(port), "--workers", "2") as process:
        wait_ready(f"{base}/readyz", process)
        time.sleep(1)  # both workers' first health checks (one Lunar Send search each)
        before = lunarsend_calls(sandbox)
        answers = lookups(base, [f"split.{i}@example.com" for i in range(8)])
        made = lunarsend_calls(sandbox) - before
        refused = total(
            scrape(base),
            "contact_gateway_provider_calls_total",
            provider="lunarsend",
            outcome="429",
        )
        status, _, err = stop(process, signal.SIGTERM)

    assert codes(answers) == []
    assert made == 8
    assert refused == 0
    assert err.count("event=rate_limit_split provider=lunarsend workers=2 per_worker=4/2s") == 2
    assert status == 0
