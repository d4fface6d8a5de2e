from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from sandbox.app import Sandbox
from tests.support import SANDBOX_URL


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
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=sandbox.app), base_url=SANDBOX_URL
    ) as client:
        yield client


@pytest.fixture
async def empty_sandbox_http(empty_sandbox: Sandbox) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=empty_sandbox.app), base_url=SANDBOX_URL
    ) as client:
        yield client
