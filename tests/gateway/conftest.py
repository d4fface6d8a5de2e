from __future__ import annotations

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
    """The gateway under a real uvicorn (lifespan included), its providers in `sandbox`."""
    app = create_app(
        settings or gateway_settings(SANDBOX_URL),
        transport=httpx.ASGITransport(app=sandbox.app),
        static_dir=static_dir,
    )
    with serve_in_thread(app) as url:
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
