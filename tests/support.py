"""Test helpers: sandbox connector settings, an in-process sandbox client and a real
uvicorn server in a thread."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

import httpx
import uvicorn

from connectors.settings import ConnectorSettings, RetryPolicy, Secret
from connectors.types import Provider
from sandbox import credentials
from sandbox.app import Sandbox

SANDBOX_URL = "http://sandbox"


def sandbox_settings(
    provider: Provider, base: str = SANDBOX_URL, **overrides: Any
) -> ConnectorSettings:
    """Connector settings that reach `provider`'s emulator under `base`."""
    key = provider.value
    creds = credentials.describe()[key]
    values: dict[str, Any] = {
        "base_url": f"{base}/{key}{credentials.ROOTS[key]}",
        "app_id": creds.get("app_id"),
        "username": creds.get("username"),
        "retry": RetryPolicy(attempts=3, backoff=0.01, max_backoff=0.05, budget=2.0),
        "timeout": 5.0,
    }
    if "api_key" in creds:
        values["api_key"] = Secret(creds["api_key"])
    if "password" in creds:
        values["password"] = Secret(creds["password"])
    if provider is Provider.AKITA:
        values["tag_ids"] = dict(credentials.AKITA_TAG_IDS)
    values.update(overrides)
    return ConnectorSettings(**values)


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
