from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from gateway import assets
from gateway.app import create_app
from gateway.config import GatewaySettings
from sandbox.app import Sandbox
from tests.support import SANDBOX_URL, gateway_settings, serve_in_thread

REPO = Path(__file__).resolve().parents[2]


@contextmanager
def serve_gateway(
    sandbox: Sandbox, settings: GatewaySettings | None = None, *, static_dir: Path | None = None
) -> Iterator[str]:
    """The gateway under a real uvicorn (lifespan included), its providers in `sandbox`.

    It is yielded once its first background health check is done, with the
    sandbox's request counts zeroed after it: what a test counts is its own doing
    (the next check comes `[server] health_interval` later, 15 s by default)."""
    app = create_app(
        settings or gateway_settings(SANDBOX_URL),
        transport=httpx.ASGITransport(app=sandbox.app),
        static_dir=static_dir,
    )
    with serve_in_thread(app) as url:
        deadline = time.monotonic() + 10
        while httpx.get(f"{url}/readyz").json()["store"].get("message") == "not checked yet":
            if time.monotonic() > deadline:
                raise RuntimeError("the gateway's first health check did not finish")
            time.sleep(0.01)
        for emulator in sandbox.emulators.values():
            emulator.reset_stats()
        yield url


@pytest.fixture
def gateway_url(sandbox: Sandbox) -> Iterator[str]:
    """A running gateway with all five providers reaching the seeded sandbox in-process."""
    with serve_gateway(sandbox) as url:
        yield url


@pytest.fixture
def fake_static(tmp_path: Path) -> Path:
    """A static directory with small stand-ins for GraphiQL's vendor files."""
    vendor = assets.vendor_dir(tmp_path)
    vendor.mkdir()
    for name in assets.FILES:
        (vendor / name).write_text(f"/* stand-in for {name} */\n")
    return tmp_path
