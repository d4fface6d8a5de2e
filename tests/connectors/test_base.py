"""The retry rules every connector shares (connectors/base.py)."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import Any

import httpx
import pytest

from connectors.akita import AkitaConnector
from connectors.base import query_string
from connectors.settings import RetryPolicy
from connectors.types import ContactInput, Provider, WriteStatus
from tests.support import sandbox_settings

CONTACT = ContactInput(external_id="u-1", account_external_id="a-1", first_name="A")


def answering(statuses: list[int]) -> tuple[httpx.MockTransport, list[int]]:
    seen: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        status = statuses[min(len(seen), len(statuses) - 1)]
        seen.append(status)
        if status == 429:
            return httpx.Response(
                429, headers={"Retry-After": "0.01"}, json={"message": "Too Many Attempts."}
            )
        if status >= 500:
            return httpx.Response(status, json={"message": "Server Error"})
        return httpx.Response(
            201, json={"data": {"id": 7, "internal_id": "u-1", "internal_account_id": "a-1"}}
        )

    return httpx.MockTransport(handler), seen


def akita(transport: httpx.MockTransport, budget: float) -> AkitaConnector:
    settings = replace(
        sandbox_settings(Provider.AKITA),
        retry=RetryPolicy(attempts=3, backoff=0.01, max_backoff=0.01, budget=budget),
    )
    return AkitaConnector(
        httpx.AsyncClient(transport=transport, base_url="http://sandbox"), settings
    )


async def test_a_write_refused_with_429_is_sent_again_until_accepted() -> None:
    # More refusals than `attempts`: a 429 means "not yet", so only the budget limits it.
    transport, seen = answering([429, 429, 429, 429, 201])
    result = await akita(transport, budget=2.0).upsert(CONTACT)
    assert result.status is WriteStatus.CREATED
    assert seen == [429, 429, 429, 429, 201]


async def test_a_write_still_refused_when_the_budget_ends_is_failed() -> None:
    transport, seen = answering([429])
    result = await akita(transport, budget=0.1).upsert(CONTACT)
    assert result.status is WriteStatus.FAILED
    assert 1 < len(seen) <= 11


async def test_a_write_answered_with_a_5xx_is_not_sent_again() -> None:
    transport, seen = answering([500, 201])
    result = await akita(transport, budget=2.0).upsert(CONTACT)
    assert result.status is WriteStatus.FAILED
    assert seen == [500]


async def test_a_call_queued_behind_others_gets_its_whole_budget_for_its_retries() -> None:
    # One slot, six writes: the last ones wait for the others before it is sent, longer
    # than the budget. Its budget starts when it is sent, and its retry keeps its slot.
    tried: set[str] = set()

    async def handler(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(0.1)
        key = request.content.decode()
        if key not in tried:
            tried.add(key)
            return httpx.Response(
                429, headers={"Retry-After": "0.01"}, json={"message": "Slow down."}
            )
        return httpx.Response(
            201, json={"data": {"id": 1, "internal_id": "x", "internal_account_id": "a"}}
        )

    settings = replace(
        sandbox_settings(Provider.AKITA),
        concurrency=1,
        retry=RetryPolicy(attempts=2, backoff=0.01, max_backoff=0.01, budget=0.35),
    )
    client = httpx.AsyncClient(transport=httpx.MockTransport(handler), base_url="http://sandbox")
    connector = AkitaConnector(client, settings)
    inputs = [replace(CONTACT, external_id=f"u-{n}") for n in range(6)]
    results = await asyncio.gather(*(connector.upsert(i) for i in inputs))
    assert [r.status for r in results] == [WriteStatus.CREATED] * 6


@pytest.mark.parametrize(
    "params",
    [
        {"searchby": "email", "search": "a+b@x.test"},
        [("where[0][val]", "a@x.test,b c@é.fi"), ("limit", 5), ("start", 0)],
        [("minimal", True), ("publishedOnly", False), ("empty", None), ("search", "tag:vip/1")],
    ],
)
def test_query_strings_are_encoded_as_httpx_encodes_them(params: Any) -> None:
    assert query_string(params) == str(httpx.QueryParams(params))
