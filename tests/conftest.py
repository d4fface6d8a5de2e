from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from typing import Any

import httpx
import pytest

from connectors.registry import build_connector
from gateway.domain.federation import Precedence
from gateway.domain.records import Provider
from resolvers.runtime.context import Runtime
from sandbox.app import Sandbox
from tests.support import in_process, sandbox_settings

GatewayFactory = Callable[..., Runtime]


@pytest.fixture
def sandbox() -> Sandbox:
    """A seeded sandbox (seed 0), fresh for each test."""
    return Sandbox(seed=0)


@pytest.fixture
def empty_sandbox() -> Sandbox:
    return Sandbox(seed=None)


@pytest.fixture
async def sandbox_http(sandbox: Sandbox) -> AsyncIterator[httpx.AsyncClient]:
    """An httpx client that reaches the seeded sandbox in-process (ASGI)."""
    async with in_process(sandbox) as http:
        yield http


@pytest.fixture
async def empty_sandbox_http(empty_sandbox: Sandbox) -> AsyncIterator[httpx.AsyncClient]:
    async with in_process(empty_sandbox) as http:
        yield http


@pytest.fixture
def client(sandbox_http: httpx.AsyncClient) -> httpx.AsyncClient:
    """The seeded sandbox's client, under the name the gateway fixtures use."""
    return sandbox_http


@pytest.fixture
def make_gateway(client: httpx.AsyncClient) -> GatewayFactory:
    """A gateway over the in-process sandbox; options change settings per provider."""

    def make(
        *,
        providers: tuple[Provider, ...] = tuple(Provider),
        precedence: Precedence | None = None,
        **overrides: Any,
    ) -> Runtime:
        connectors = {
            p: build_connector(p, client, replace(sandbox_settings(p), **overrides))
            for p in providers
        }
        return Runtime(connectors=connectors, precedence=precedence or Precedence())

    return make


@pytest.fixture
def gateway(make_gateway: GatewayFactory) -> Runtime:
    return make_gateway()
