"""Database engine, sessions and migrations (SQLite by default, PostgreSQL with the same code)."""

from __future__ import annotations

import asyncio
import functools
import re
import sqlite3
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import aiosqlite
from alembic import command
from alembic.config import Config
from sqlalchemy import event, exc
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.ext.asyncio import AsyncSession as AsyncSession
from sqlalchemy.pool import ConnectionPoolEntry

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def normalise_url(url: str) -> str:
    """Accept plain driver names from users (postgresql://, sqlite://) and pick the async drivers."""
    parsed = make_url(url)
    driver = parsed.drivername
    if driver in ("postgresql", "postgres", "postgresql+psycopg2"):
        parsed = parsed.set(drivername="postgresql+asyncpg")
    elif driver == "sqlite":
        parsed = parsed.set(drivername="sqlite+aiosqlite")
    return parsed.render_as_string(hide_password=False)


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


class InlineSqliteConnection(aiosqlite.Connection):
    """aiosqlite, but statements run on the event loop's thread once the connection is open.

    A statement on a local SQLite file takes microseconds; handing each one to aiosqlite's thread and
    waking the loop for its result cost 2.5× the engine's own work per update (benchmarks/bench_engine.py:
    10.2 → 4.1 ms of CPU per event). Opening and closing still go through the thread.
    """

    async def _execute(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        if self._connection is None or not self._running:
            return await super()._execute(fn, *args, **kwargs)
        return fn(*args, **kwargs)


def _inline_sqlite_creator(database: str) -> Callable[[], Any]:
    async def connect() -> aiosqlite.Connection:
        connector = partial(sqlite3.connect, database, timeout=30, check_same_thread=False)
        connection = InlineSqliteConnection(connector, iter_chunk_size=64)
        connection._thread.daemon = True  # as SQLAlchemy does for aiosqlite: never keeps the process alive
        return await connection

    return connect


IDLE_PING_SECONDS = 5.0


def _ping_idle_connections(engine: AsyncEngine, idle_seconds: float) -> None:
    """Test a pooled connection before use only when it has sat idle, where a restarted server or a
    dropped link would show; a connection in steady use proves itself with every statement.

    SQLAlchemy's pool_pre_ping pings at every checkout, and on asyncpg a ping is three round trips
    (BEGIN, a statement, ROLLBACK): under load that was a quarter of the bot's statements
    (benchmarks/bench_e2e.py). A busy connection that does fail is invalidated together with the
    rest of the pool, and its update is taken up again (the inbox keeps it pending).
    """
    dialect = engine.sync_engine.dialect

    def checkin(_dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
        record.info["idle_since"] = time.monotonic()

    def checkout(dbapi_connection: Any, record: ConnectionPoolEntry, _proxy: Any) -> None:
        idle_since = record.info.get("idle_since")
        if idle_since is None or time.monotonic() - idle_since < idle_seconds:
            return
        try:
            dialect.do_ping(dbapi_connection)
        except Exception as error:  # the pool replaces the connection and tries again
            raise exc.DisconnectionError(f"idle connection failed its ping: {error}") from error

    event.listen(engine.sync_engine, "checkin", checkin)
    event.listen(engine.sync_engine, "checkout", checkout)


# Execution option (PostgreSQL): a connection taken in AUTOCOMMIT with this option set runs its reads
# outside any transaction and opens one just before its first write; a statement executed with the
# option set to False runs outside one unless a write has opened it (db/store.py, Store.begin_update).
BEGIN_ON_WRITE = "salescoach_begin_on_write"
_PLAIN_READ = re.compile(r"\s*select\b", re.IGNORECASE)
_NOT_ONLY_READING = re.compile(
    r"\bfor\s+(?:no\s+key\s+update|update|key\s+share|share)\b|pg_advisory|nextval|setval|pg_notify",
    re.IGNORECASE)


@functools.lru_cache(maxsize=1024)  # the bot's statements are a few hundred, compiled once each
def needs_transaction(statement: str) -> bool:
    """Anything but a plain read: DML, a CTE, SELECT … FOR UPDATE, an advisory lock, a sequence. A
    misjudged read costs a BEGIN; a misjudged write would cost atomicity, so the doubt goes to writing."""
    return not _PLAIN_READ.match(statement) or bool(_NOT_ONLY_READING.search(statement))


def _begin_before_first_write(conn: Any, _cursor: Any, statement: str, _parameters: Any, context: Any,
                              _executemany: bool) -> None:
    """Open the transaction of a BEGIN_ON_WRITE connection at its first statement that needs one.

    Reads before it cost one round trip each instead of also a BEGIN and a COMMIT. The asyncpg adapter
    begins a transaction before a statement unless its level is autocommit: lowering that one flag is
    enough, and the pool puts the level back when the connection returns (the isolation_level
    execution option).
    """
    if context is None or not context.execution_options.get(BEGIN_ON_WRITE) or not needs_transaction(statement):
        return
    adapter = conn.connection.dbapi_connection
    if getattr(adapter, "isolation_level", None) == "autocommit":
        adapter.isolation_level = None  # the server's default level, as for any other session


def create_engine(url: str, **kwargs: Any) -> AsyncEngine:
    url = normalise_url(url)
    if is_sqlite(url):
        # One connection: SQLite has one writer, and transactions queued on the pool wait far less than
        # connections contending for the write lock through busy_timeout sleeps (bench_e2e: 1.3-1.4× throughput)
        kwargs.setdefault("pool_size", 1)
        kwargs.setdefault("max_overflow", 0)
        database = make_url(url).database
        if database and database != ":memory:":
            kwargs.setdefault("async_creator", _inline_sqlite_creator(database))
        engine = create_async_engine(url, connect_args={"timeout": 30}, **kwargs)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    else:
        parsed = make_url(url)
        for setting in ("search_path", "application_name"):
            value = parsed.query.get(setting)
            if value:  # e.g. one schema per test run, a name per worker; asyncpg takes them as server settings
                parsed = parsed.difference_update_query([setting])
                kwargs.setdefault("connect_args", {}).setdefault("server_settings", {})[setting] = str(value)
        # A fixed set of connections, kept open: updates beyond it wait for one (cheaply, in the pool's
        # queue). Overflow connections were opened and closed again under load — a server process, a TLS
        # attempt and a cold statement cache each time — and that cost the bot more CPU than all its queries
        # (py-spy on benchmarks/bench_e2e.py with 60 reps). 20 per worker leaves room for several workers
        # within PostgreSQL's default of 100 connections.
        kwargs.setdefault("pool_size", 20)
        kwargs.setdefault("max_overflow", 0)
        engine = create_async_engine(parsed, **kwargs)
        if not kwargs.get("pool_pre_ping"):
            _ping_idle_connections(engine, IDLE_PING_SECONDS)
        event.listen(engine.sync_engine, "before_cursor_execute", _begin_before_first_write)
    return engine


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", normalise_url(url).replace("%", "%%"))
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    """Run migrations (blocking; call from sync code or through upgrade_async)."""
    command.upgrade(alembic_config(url), revision)


def downgrade(url: str, revision: str) -> None:
    command.downgrade(alembic_config(url), revision)


async def upgrade_async(url: str, revision: str = "head") -> None:
    await asyncio.to_thread(upgrade, url, revision)
