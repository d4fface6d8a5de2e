from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from typing import Any

import httpx
import pytest

from connectors.registry import build_connector
from connectors.types import Provider
from resolvers.context import Context, Gateway
from resolvers.federation import Precedence
from resolvers.schema import schema
from sandbox.app import Sandbox
from tests.support import SANDBOX_URL, sandbox_settings

GatewayFactory = Callable[..., Gateway]


@pytest.fixture
async def client(sandbox: Sandbox) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=sandbox.app), base_url=SANDBOX_URL
    ) as http:
        yield http


@pytest.fixture
def make_gateway(client: httpx.AsyncClient) -> GatewayFactory:
    """A gateway over the in-process sandbox; options change settings per provider."""

    def make(
        *,
        providers: tuple[Provider, ...] = tuple(Provider),
        precedence: Precedence | None = None,
        **overrides: Any,
    ) -> Gateway:
        connectors = {
            p: build_connector(p, client, replace(sandbox_settings(p), **overrides))
            for p in providers
        }
        return Gateway(connectors=connectors, precedence=precedence or Precedence())

    return make


@pytest.fixture
def gateway(make_gateway: GatewayFactory) -> Gateway:
    return make_gateway()


class Result:
    def __init__(self, data: Any, errors: list[dict[str, Any]]) -> None:
        self.data = data
        self.errors = errors

    def error_codes(self) -> list[tuple[str | None, str | None]]:
        return [(e["extensions"].get("code"), e["extensions"].get("provider")) for e in self.errors]


async def execute(gateway: Gateway, query: str, variables: dict[str, Any] | None = None) -> Result:
    """Run an operation through the real schema, as the HTTP layer would."""
    result = await schema.execute(query, variable_values=variables, context_value=Context(gateway))
    errors = [e.formatted for e in result.errors or []]
    return Result(result.data, errors)


async def stats(client: httpx.AsyncClient, key: str) -> dict[str, int]:
    response = await client.get(f"/{key}/_sandbox/stats")
    requests: dict[str, int] = response.json()["requests"]
    return requests


async def reset(client: httpx.AsyncClient) -> None:
    await client.post("/_sandbox/reset")


async def records(client: httpx.AsyncClient, key: str) -> list[Any]:
    response = await client.get(f"/{key}/_sandbox/records")
    found: list[Any] = response.json()["records"]
    return found
