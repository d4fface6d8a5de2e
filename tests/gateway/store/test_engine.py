"""Opening and migrating the store, on SQLite and on PostgreSQL."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text

from gateway.store import Store, StoreError, open_store
from gateway.store.tables import metadata
from tests.gateway.conftest import REPO


async def test_the_migrations_make_the_tables_the_code_uses(store: Store) -> None:
    async with store.engine.connect() as connection:
        differences = await connection.run_sync(
            lambda sync: compare_metadata(MigrationContext.configure(sync), metadata)
        )
    assert differences == []
    assert not await store.pending()


async def test_migrating_twice_changes_nothing(store: Store) -> None:
    before = await store.revision()
    await store.migrate()
    assert await store.revision() == before == "0002"


async def test_a_store_a_newer_gateway_migrated_is_refused(store: Store) -> None:
    async with store.engine.begin() as connection:
        await connection.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    with pytest.raises(StoreError, match="newer than this gateway knows"):
        await store.migrate()


@pytest.mark.parametrize(
    "url", ["mysql://root@127.0.0.1/test", "not a url", "sqlite+pysqlite:///x.db/../"]
)
def test_a_store_url_it_cannot_use_is_refused(url: str) -> None:
    if url.startswith("sqlite"):
        open_store(url)  # another SQLite driver is fine: the store picks its own
        return
    with pytest.raises(StoreError):
        open_store(url)


@pytest.mark.e2e
def test_migrate_says_in_one_line_why_it_refuses(tmp_path: Path) -> None:
    store = tmp_path / "store.db"
    config = tmp_path / "gateway.toml"
    config.write_text(
        '[providers.akita]\nbase_url = "https://api.akitaapp.com/v1"\napi_key = "k"\n'
        f'[store]\nurl = "sqlite:///{store}"\n'
    )
    run = [sys.executable, "-m", "gateway.cli", "migrate", "--config", str(config)]
    first = subprocess.run(run, cwd=REPO, capture_output=True, text=True, timeout=60)
    assert first.returncode == 0, first.stderr
    assert "up to date" in first.stdout
    import sqlite3

    with sqlite3.connect(store) as connection:
        connection.execute("UPDATE alembic_version SET version_num = 'abcdef'")
    refused = subprocess.run(run, cwd=REPO, capture_output=True, text=True, timeout=60)
    assert refused.returncode == 2
    lines = refused.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "newer than this gateway knows" in lines[0]


def test_the_revisions_the_store_knows_are_the_migration_scripts_in_order() -> None:
    from alembic.script import ScriptDirectory

    from gateway.store.engine import HEAD, REVISIONS, _alembic

    scripts = ScriptDirectory.from_config(_alembic())
    in_order = [script.revision for script in reversed(list(scripts.walk_revisions()))]
    assert list(REVISIONS) == in_order
    assert scripts.get_current_head() == HEAD


def test_a_gateway_whose_store_is_up_to_date_never_imports_alembic(tmp_path: Path) -> None:
    """Alembic is ~10 MB of a worker's memory: a store at the newest migration needs none."""
    url = f"sqlite:///{tmp_path}/store.db"
    program = (
        "import asyncio, sys\n"
        "from gateway.store import open_store\n"
        "async def main():\n"
        f"    store = open_store({url!r})\n"
        "    await store.migrate()\n"
        "    first = 'alembic' in sys.modules\n"
        "    await store.close()\n"
        "    print(first)\n"
        "asyncio.run(main())\n"
    )
    migrated = subprocess.run(
        [sys.executable, "-c", program], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert migrated.stdout.strip() == "True"  # an empty store: migrated with Alembic
    again = subprocess.run(
        [sys.executable, "-c", program], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert again.stdout.strip() == "False"
