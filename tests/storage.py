"""Stores for tests: a SQLite file per test, and a PostgreSQL database per test on the
server the machines run (127.0.0.1:5432, trust auth), dropped afterwards.

The PostgreSQL cases skip, saying why, only when no server answers there.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg
import pytest

from gateway.store import Store, open_store

POSTGRES = os.environ.get(
    "CONTACT_GATEWAY_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test"
)
BACKENDS = ("sqlite", "postgresql")


async def _admin() -> asyncpg.Connection:
    try:
        return await asyncio.wait_for(asyncpg.connect(POSTGRES), 5)
    except (TimeoutError, OSError, asyncpg.PostgresError) as exc:
        pytest.skip(f"no PostgreSQL server answers at {POSTGRES} ({type(exc).__name__}: {exc})")


@asynccontextmanager
async def database_url(backend: str, tmp_path: Path) -> AsyncIterator[str]:
    """A fresh, empty database of `backend`, removed when the block ends."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.db'}"
        return
    admin = await _admin()
    name = f"cg_test_{uuid.uuid4().hex[:12]}"
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        base = POSTGRES.rsplit("/", 1)[0]
        yield f"{base}/{name}"
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


@asynccontextmanager
async def migrated_store(backend: str, tmp_path: Path) -> AsyncIterator[Store]:
    """An open store of `backend`, migrated to the newest schema."""
    async with database_url(backend, tmp_path) as url:
        store = open_store(url)
        try:
            await store.migrate()
            yield store
        finally:
            await store.close()


REDIS = os.environ.get("CONTACT_GATEWAY_TEST_REDIS", "redis://127.0.0.1:6379/0")


@asynccontextmanager
async def redis_prefix() -> AsyncIterator[tuple[str, str]]:
    """The Redis the machines run and a key prefix of this test's own, whose keys are
    deleted when the block ends; skips, saying why, only when no server answers."""
    import redis.asyncio as aioredis
    from redis.exceptions import RedisError

    client = aioredis.from_url(REDIS)
    try:
        await asyncio.wait_for(client.ping(), 5)
    except (TimeoutError, OSError, RedisError) as exc:
        await client.aclose()
        pytest.skip(f"no Redis server answers at {REDIS} ({type(exc).__name__}: {exc})")
    prefix = f"cg-test-{uuid.uuid4().hex[:12]}:"
    try:
        yield REDIS, prefix
    finally:
        keys = [key async for key in client.scan_iter(match=f"{prefix}*")]
        if keys:
            await client.delete(*keys)
        await client.aclose()
