"""Opening the store: the URL, the engine, and the migrations it must be at.

    sqlite:///contact-gateway.db         a file (relative to the working directory)
    sqlite:////var/lib/gateway/store.db  an absolute path
    postgresql://user@host:5432/db       PostgreSQL, for several processes or machines

`open_store` creates the engine (SQLite in WAL mode with a busy timeout, so the
workers of one `serve` share the file); `Store.migrate` applies pending Alembic
migrations, and `Store.check` refuses a store that a newer gateway migrated.

Two ways in: `Store.transaction()` gives an async connection, each statement
awaited; `Store.run(fn)` runs `fn(connection)` as one transaction of plain
synchronous statements. On SQLite every awaited statement, commit and pool
checkout is a hop to aiosqlite's thread (a transaction of one statement costs
about 0.9 ms, the statement itself 0.02 ms), so `run` does the whole
transaction in one hop, on a thread of its own with a synchronous engine over
the same file; on PostgreSQL it is `run_sync` on the async connection. The hot
paths (the write journal) use `run`.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import create_engine, event, inspect, text
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

if TYPE_CHECKING:
    from alembic.config import Config

T = TypeVar("T")
MIGRATIONS = Path(__file__).with_name("migrations")
# Every migration's revision, oldest first (tests/gateway/store checks them against the
# migration scripts). A store at the newest needs no migrating, and Alembic (about 10 MB
# of every worker's memory once imported) is then never imported.
REVISIONS = ("0001", "0002")
HEAD = REVISIONS[-1]
# The advisory lock migrations hold on PostgreSQL (any number the gateway alone uses).
LOCK = 0x636F6E74616374
# Each connection's page cache, in KiB as SQLite takes it (negative). SQLite's default
# is 2 MB, held by each of the several connections a worker opens.
CACHE_KIB = -512
DRIVERS = {"sqlite": "sqlite+aiosqlite", "postgresql": "postgresql+asyncpg"}


class StoreError(Exception):
    """The store cannot be used as configured; `str()` is one line."""


class StoreUnavailable(Exception):
    """The store did not answer (PostgreSQL down, a file that cannot be written)."""


def engine_url(url: str) -> str:
    """`url` with the async driver the store uses for its database."""
    try:
        parsed = make_url(url)
    except Exception as exc:  # sqlalchemy raises ArgumentError for malformed URLs
        raise StoreError(f"not a database URL: {exc}") from None
    backend = parsed.get_backend_name()
    if backend not in DRIVERS:
        raise StoreError(f"unsupported database {backend!r} (use sqlite:/// or postgresql://)")
    return parsed.set(drivername=DRIVERS[backend]).render_as_string(hide_password=False)


def _alembic(connection: Connection | None = None) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


class Store:
    """An open store.

    Args:
        engine: the async engine over the store's database.
    """

    def __init__(
        self,
        engine: AsyncEngine,
        sync_engine: Engine | None = None,
        inline_engine: Engine | None = None,
    ) -> None:
        self.engine = engine
        self.dialect = engine.dialect.name
        # SQLite: a synchronous engine and one thread, where `run` does its transactions,
        # and one that does small ones on the event loop without waiting for the file.
        self._sync = sync_engine
        self._inline = inline_engine
        self._thread = (
            ThreadPoolExecutor(1, thread_name_prefix="store") if sync_engine is not None else None
        )

    async def run(self, fn: Callable[[Connection], T], *, small: bool = False) -> T:
        """`fn(connection)` as one transaction; its result. A database that does not
        answer is `StoreUnavailable`.

        `small`: a transaction of a few rows (the journal's). On SQLite it is done at
        once on the event loop, which costs less than handing it to the store's
        thread (that thread waits for the interpreter lock while the loop is busy);
        if another process holds the file, it goes to the thread after all, which
        waits for the file as long as any transaction does. `fn` must touch nothing
        but the connection, as it may run twice.
        """
        try:
            if self._sync is not None and self._thread is not None:
                if small and self._inline is not None:
                    try:
                        return _transaction(self._inline, fn)
                    except OperationalError as exc:
                        if "locked" not in str(exc.orig):
                            raise
                return await asyncio.get_running_loop().run_in_executor(
                    self._thread, _transaction, self._sync, fn
                )
            async with self.engine.begin() as connection:
                return await connection.run_sync(fn)
        except (OperationalError, InterfaceError, OSError, TimeoutError) as exc:
            raise StoreUnavailable(f"the store did not answer ({type(exc).__name__})") from exc

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncConnection]:
        """One transaction; a database that does not answer is `StoreUnavailable`."""
        try:
            async with self.engine.begin() as connection:
                yield connection
        except (OperationalError, InterfaceError, OSError, TimeoutError) as exc:
            raise StoreUnavailable(f"the store did not answer ({type(exc).__name__})") from exc

    async def ping(self) -> None:
        """One round trip; `StoreUnavailable` when the store does not answer."""
        async with self.transaction() as connection:
            await connection.execute(text("SELECT 1"))

    async def migrate(self) -> None:
        """Apply every pending migration (idempotent). Gateways starting at once take
        turns: on PostgreSQL a transaction-scoped advisory lock holds the others until
        the first has migrated (SQLite's write lock does the same)."""
        if await self.check() == HEAD:
            return
        from alembic import command

        async with self.transaction() as connection:
            if self.dialect == "postgresql":
                await connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": LOCK})
            await connection.run_sync(lambda sync: command.upgrade(_alembic(sync), "head"))

    async def revision(self) -> str | None:
        """The store's migration revision (Alembic's `alembic_version`); None for an
        empty store."""

        def read(sync: Connection) -> str | None:
            if not inspect(sync).has_table("alembic_version"):
                return None
            found = sync.execute(text("SELECT version_num FROM alembic_version")).scalar()
            return str(found) if found is not None else None

        async with self.transaction() as connection:
            return await connection.run_sync(read)

    async def check(self) -> str | None:
        """The store's revision; `StoreError` when a newer gateway migrated it."""
        current = await self.revision()
        if current is not None and current not in REVISIONS:
            raise StoreError(
                f"the store is at migration {current}, newer than this gateway knows "
                f"(its newest is {HEAD}): upgrade the gateway"
            )
        return current

    async def pending(self) -> bool:
        """Whether migrations are pending."""
        return await self.revision() != HEAD

    async def close(self) -> None:
        await self.engine.dispose()
        if self._inline is not None:
            self._inline.dispose()
        if self._sync is not None and self._thread is not None:
            await asyncio.get_running_loop().run_in_executor(self._thread, self._sync.dispose)
            self._thread.shutdown(wait=False)


def open_store(url: str, **engine_options: Any) -> Store:
    """A `Store` for `url` (see the module docstring); nothing is connected yet.

    Raises:
        StoreError: the URL is not one the store can use.
    """
    full = engine_url(url)
    if full.startswith("sqlite"):
        database = make_url(full).database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(full, connect_args={"timeout": 15}, **engine_options)
        sync = create_engine(
            make_url(full).set(drivername="sqlite"),
            connect_args={"timeout": 15, "check_same_thread": False},
            **engine_options,
        )
        # Never waits for the file: a transaction that would is done on the thread.
        inline = create_engine(
            make_url(full).set(drivername="sqlite"), connect_args={"timeout": 0}, **engine_options
        )
        for target in (engine.sync_engine, sync, inline):
            event.listen(target, "connect", _pragmas)
        return Store(engine, sync, inline)
    engine = create_async_engine(full, pool_pre_ping=True, **engine_options)
    return Store(engine)


def _transaction(engine: Engine, fn: Callable[[Connection], T]) -> T:
    with engine.begin() as connection:
        return fn(connection)


def _pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute(f"PRAGMA cache_size={CACHE_KIB}")
    cursor.close()
