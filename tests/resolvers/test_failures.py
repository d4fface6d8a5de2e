"""Partial failure, timeouts and concurrency, through the real schema."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import replace

import httpx
import pytest

from connectors.registry import build_connector
from connectors.settings import RetryPolicy, Secret
from gateway.domain.records import Provider
from resolvers.runtime.context import Runtime
from sandbox.app import Sandbox
from sandbox.emulator import Controls
from tests.conftest import GatewayFactory
from tests.resolvers.conftest import execute
from tests.support import SANDBOX_URL, InFlight, sandbox_settings, serve_in_thread

QUERY = """
query($email: String) {
  contact(email: $email) { email firstName sources { provider } }
}
"""


def shared_email(sandbox: Sandbox) -> str:
    assert sandbox.data is not None
    person = next(p for p in sandbox.data.people if len(p.records) == 3)
    return person.records["adaptix"].email


async def test_an_outage_gives_partial_data_and_a_coded_error(
    sandbox: Sandbox, make_gateway: GatewayFactory
) -> None:
    sandbox.emulators["trustmary"].set_controls(Controls(outage=True))
    result = await execute(make_gateway(), QUERY, {"email": shared_email(sandbox)})
    contact = result.data["contact"]
    assert [s["provider"] for s in contact["sources"]] == ["ADAPTIX", "LUNARSEND"]
    assert contact["firstName"]
    assert len(result.errors) == 1
    error = result.errors[0]
    assert error["path"] == ["contact"]
    assert error["extensions"] == {"code": "PROVIDER_UNAVAILABLE", "provider": "TRUSTMARY"}


async def test_listing_survives_a_failing_provider(
    sandbox: Sandbox, make_gateway: GatewayFactory
) -> None:
    sandbox.emulators["lunarsend"].set_controls(Controls(outage=True))
    result = await execute(
        make_gateway(), "{ contacts(first: 5) { edges { node { email sources { provider } } } } }"
    )
    assert len(result.data["contacts"]["edges"]) == 5
    assert {(e["extensions"]["code"], e["extensions"]["provider"]) for e in result.errors} == {
        ("PROVIDER_UNAVAILABLE", "LUNARSEND")
    }
    assert all(e["path"] == ["contacts"] for e in result.errors)


async def test_wrong_credentials_are_reported_without_the_secret(
    sandbox: Sandbox, client: httpx.AsyncClient
) -> None:
    settings = replace(sandbox_settings(Provider.ADAPTIX), password=Secret("hunter2-wrong"))
    gateway = Runtime(
        connectors={Provider.ADAPTIX: build_connector(Provider.ADAPTIX, client, settings)}
    )
    result = await execute(gateway, QUERY, {"email": shared_email(sandbox)})
    assert result.data == {"contact": None}
    assert result.error_codes() == [("PROVIDER_AUTH", "ADAPTIX")]
    assert "hunter2" not in str(result.errors)


@pytest.mark.e2e
async def test_a_slow_provider_does_not_slow_the_answer_past_its_timeout(sandbox: Sandbox) -> None:
    # Timeouts need a real socket: the sandbox runs under uvicorn on 127.0.0.1.
    sandbox.emulators["lunarsend"].set_controls(Controls(latency_ms=2000))
    with serve_in_thread(sandbox.app) as base:
        async with httpx.AsyncClient() as http:
            connectors = {
                p: build_connector(
                    p,
                    http,
                    replace(
                        sandbox_settings(p, base),
                        timeout=0.3,
                        retry=RetryPolicy(attempts=3, budget=0.5),
                    ),
                )
                for p in Provider
            }
            started = time.monotonic()
            result = await execute(
                Runtime(connectors=connectors), QUERY, {"email": shared_email(sandbox)}
            )
            elapsed = time.monotonic() - started
    assert [s["provider"] for s in result.data["contact"]["sources"]] == ["ADAPTIX", "TRUSTMARY"]
    assert result.error_codes() == [("PROVIDER_TIMEOUT", "LUNARSEND")]
    # The read budget (0.5 s) bounds the wait, well short of the provider's 2 s.
    assert elapsed < 1.5


@pytest.fixture
async def in_flight(sandbox: Sandbox) -> AsyncIterator[tuple[InFlight, httpx.AsyncClient]]:
    transport = InFlight(sandbox.app)
    async with httpx.AsyncClient(transport=transport, base_url=SANDBOX_URL) as http:
        yield transport, http


async def test_readable_providers_are_asked_at_the_same_time(
    sandbox: Sandbox, in_flight: tuple[InFlight, httpx.AsyncClient]
) -> None:
    transport, http = in_flight
    for key in ("adaptix", "trustmary", "lunarsend"):
        sandbox.emulators[key].set_controls(Controls(latency_ms=50))
    gateway = Runtime(
        connectors={p: build_connector(p, http, sandbox_settings(p)) for p in Provider}
    )
    result = await execute(gateway, QUERY, {"email": shared_email(sandbox)})
    assert len(result.data["contact"]["sources"]) == 3
    assert transport.peak == 3


async def test_upsert_writes_to_every_provider_at_the_same_time(
    sandbox: Sandbox, in_flight: tuple[InFlight, httpx.AsyncClient]
) -> None:
    transport, http = in_flight
    for emulator in sandbox.emulators.values():
        emulator.set_controls(Controls(latency_ms=30))
    gateway = Runtime(
        connectors={p: build_connector(p, http, sandbox_settings(p)) for p in Provider}
    )
    result = await execute(
        gateway,
        'mutation { upsertContact(input: {email: "p@x.test", firstName: "P", externalId: "1", accountExternalId: "2"}) { results { status } } }',
    )
    assert result.errors == []
    assert transport.peak >= 5
    await asyncio.sleep(0)
