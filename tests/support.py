"""Test helpers: sandbox connector settings, an in-process sandbox client and a real
uvicorn server in a thread."""

from __future__ import annotations

import socket
import tempfile
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import replace
from typing import Any

import httpx
import uvicorn

from connectors.registry import PROVIDERS
from connectors.settings import ConnectorSettings, RetryPolicy, Table
from gateway.config import GatewaySettings, read_document
from gateway.domain.records import Provider
from sandbox.app import Sandbox
from sandbox.config import sandbox_document

SANDBOX_URL = "http://sandbox"


def sandbox_settings(
    provider: Provider, base: str = SANDBOX_URL, **overrides: Any
) -> ConnectorSettings:
    """`provider`'s settings to reach its emulator under `base`, read from the sandbox's
    configuration document as a user's file would be, with short retries for tests."""
    table = sandbox_document(base, [provider.value])["providers"][provider.value]
    settings = PROVIDERS[provider].read_settings(Table(table, key=provider.value, environ={}))
    values: dict[str, Any] = {
        "retry": RetryPolicy(attempts=3, backoff=0.01, max_backoff=0.05, budget=2.0),
        "timeout": 5.0,
        **overrides,
    }
    return replace(settings, **values)


_STORES = tempfile.TemporaryDirectory(prefix="contact-gateway-tests-")


def fresh_store_url() -> str:
    """A SQLite store file nobody has used (in a directory removed when the run ends)."""
    return f"sqlite:///{_STORES.name}/{uuid.uuid4().hex}.db"


def gateway_settings(base: str = SANDBOX_URL, *, store_url: str | None = None) -> GatewaySettings:
    """Gateway settings with every provider in the sandbox under `base`, and a store of
    their own (a fresh SQLite file unless `store_url` names one)."""
    document = sandbox_document(base)
    document["store"] = {"url": store_url or fresh_store_url()}
    return read_document(document, source=f"sandbox at {base}")


@asynccontextmanager
async def in_process(sandbox: Sandbox) -> AsyncIterator[httpx.AsyncClient]:
    """An httpx client that reaches `sandbox` in-process (ASGI)."""
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=sandbox.app), base_url=SANDBOX_URL
    ) as http:
        yield http


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serve_in_thread(app: Any) -> Iterator[str]:
    """Run `app` under a real uvicorn server on 127.0.0.1; yields its base URL."""
    port = free_port()
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        log_level="warning",
        lifespan="on",
        timeout_graceful_shutdown=1,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


class InFlight(httpx.AsyncBaseTransport):
    """Forwards to an ASGI app and records the most requests that overlapped."""

    def __init__(self, app: Any) -> None:
        self.inner = httpx.ASGITransport(app=app)
        self.now = 0
        self.peak = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.now += 1
        self.peak = max(self.peak, self.now)
        try:
            return await self.inner.handle_async_request(request)
        finally:
            self.now -= 1
