"""Helpers the connector tests share: what an emulator stores and was asked, and
scripted provider answers for what the sandbox cannot produce."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import replace
from typing import Any

import httpx

from connectors.base import HTTPConnector
from connectors.protocol import (
    Deleter,
    DoNotContactSetter,
    PointsKeeper,
    Tagger,
    UtmTagger,
    Writer,
)
from connectors.registry import build_connector
from gateway.domain.records import ContactRecord, ContactWrite, Provider, UtmWrite, WriteResult
from tests.support import SANDBOX_URL, sandbox_settings


async def records(http: httpx.AsyncClient, provider: Provider) -> list[dict[str, Any]]:
    """What `provider`'s emulator stores, in its own record shape."""
    body = (await http.get(f"/{provider.value}/_sandbox/records")).json()
    stored: list[dict[str, Any]] = body["records"]
    return stored


async def calls(http: httpx.AsyncClient, provider: Provider) -> dict[str, int]:
    """Requests `provider`'s emulator answered, by "METHOD path template"."""
    counts: dict[str, int] = (await http.get(f"/{provider.value}/_sandbox/stats")).json()[
        "requests"
    ]
    return counts


async def reset(http: httpx.AsyncClient, provider: Provider) -> None:
    """Zero the request counts (what is stored stays)."""
    await http.post(f"/{provider.value}/_sandbox/reset")


class Script(httpx.MockTransport):
    """Answers with `answers` in order, the last one again once they run out, and
    keeps every request and the moment it came."""

    def __init__(self, *answers: httpx.Response) -> None:
        self.answers = answers
        self.requests: list[httpx.Request] = []
        self.times: list[float] = []
        super().__init__(self._answer)

    def _answer(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        self.times.append(time.monotonic())
        answer = self.answers[min(len(self.requests), len(self.answers)) - 1]
        # A fresh response each time: one is read by the client that receives it.
        return httpx.Response(answer.status_code, headers=answer.headers, content=answer.content)


@asynccontextmanager
async def scripted(
    provider: Provider, transport: httpx.MockTransport, **overrides: Any
) -> AsyncIterator[HTTPConnector]:
    """`provider`'s connector with sandbox settings, answered by `transport`."""
    async with httpx.AsyncClient(transport=transport, base_url=SANDBOX_URL) as client:
        yield build_connector(provider, client, sandbox_settings(provider, **overrides))


# Every field, so each write path that reads first (lists, field names, the stored
# name, the existing contact) is taken.
EVERY_FIELD = ContactWrite(
    email="writes@example.test",
    external_id="u-writes",
    account_external_id="acct-writes",
    first_name="Writes",
    company="Writes Oy",
    tags=("vip",),
    custom_fields={"plan": "pro"},
)


def every_write(c: Any) -> dict[str, Callable[[], Awaitable[WriteResult | list[WriteResult]]]]:
    """Each write method connector `c` has, by name, with arguments it would send."""
    record = ContactRecord(c.provider, remote_id="1", email="writes@example.test")
    writes: dict[str, Callable[[], Awaitable[Any]]] = {}
    if isinstance(c, Writer):
        writes["upsert"] = lambda: c.upsert(EVERY_FIELD)
        writes["upsert_many"] = lambda: c.upsert_many(
            [EVERY_FIELD, replace(EVERY_FIELD, email="writes.2@example.test")]
        )
    if isinstance(c, Deleter):
        writes["delete"] = lambda: c.delete(record)
    if isinstance(c, Tagger):
        writes["tag"] = lambda: c.tag(record, add=["vip"])
    if isinstance(c, DoNotContactSetter):
        writes["dnc"] = lambda: c.set_do_not_contact("1", channel="email", enabled=True)
    if isinstance(c, PointsKeeper):
        writes["points"] = lambda: c.add_points("1", 5)
    if isinstance(c, UtmTagger):
        writes["utm_add"] = lambda: c.add_utm_tags("1", UtmWrite(campaign="spring"))
        writes["utm_remove"] = lambda: c.remove_utm_tag("1", "2")
    return writes


def results(answer: WriteResult | list[WriteResult]) -> list[WriteResult]:
    """One write method's answer as a list (`upsert_many` answers one already)."""
    return answer if isinstance(answer, list) else [answer]
