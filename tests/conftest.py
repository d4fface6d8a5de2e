from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest

from connectors.registry import build_connector
from gateway.domain.federation import Precedence
from gateway.domain.records import Provider
from gateway.store import Store, open_store
from gateway.store.cache import RecordCache
from gateway.store.identities import Identities
from gateway.store.journal import Journal
from gateway.store.tables import metadata
from resolvers.runtime.context import Runtime
from resolvers.runtime.policy import WritePolicy
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
async def identity_store(tmp_path: Path) -> AsyncIterator[Store]:
    """An empty store in a SQLite file of the test's own (tables made from the metadata;
    tests/gateway/store checks the migrations make the same)."""
    store = open_store(f"sqlite:///{tmp_path / 'store.db'}")
    async with store.engine.begin() as connection:
        await connection.run_sync(metadata.create_all)
    yield store
    await store.close()


@pytest.fixture
def make_gateway(client: httpx.AsyncClient, identity_store: Store) -> GatewayFactory:
    """A gateway over the in-process sandbox, with an identity store; options change
    settings per provider (`store=False`: no store nor journal, `cache_ttl`: a record
    cache, `writes`: the journal's retry policy, `phone_region`: the region of phones
    without a leading +)."""

    def make(
        *,
        providers: tuple[Provider, ...] = tuple(Provider),
        precedence: Precedence | None = None,
        store: bool = True,
        cache_ttl: float | None = None,
        writes: WritePolicy | None = None,
        phone_region: str = "US",
        **overrides: Any,
    ) -> Runtime:
        connectors = {
            p: build_connector(p, client, replace(sandbox_settings(p), **overrides))
            for p in providers
        }
        return Runtime(
            connectors=connectors,
            precedence=precedence or Precedence(),
            identities=Identities(identity_store) if store else None,
            cache=RecordCache(identity_store, ttl=cache_ttl) if cache_ttl else None,
            journal=Journal(identity_store) if store else None,
            writes=writes,
            phone_region=phone_region,
        )

    return make


@pytest.fixture
def gateway(make_gateway: GatewayFactory) -> Runtime:
    return make_gateway()
