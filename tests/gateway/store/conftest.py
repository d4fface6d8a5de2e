from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from gateway.store import Store
from tests.storage import BACKENDS, migrated_store


@pytest.fixture(params=BACKENDS)
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    """A migrated store on SQLite, then on PostgreSQL."""
    async with migrated_store(request.param, tmp_path) as opened:
        yield opened
