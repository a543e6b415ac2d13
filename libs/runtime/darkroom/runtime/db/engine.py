"""Engines for the two backends, with the write discipline SQLite needs."""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from darkroom.runtime.settings import DatabaseSettings

OUTBOX_CHANNEL = "darkroom_outbox"


@dataclass
class Database:
    """A reader engine and a writer engine (the same one on PostgreSQL).

    On SQLite every write transaction starts with BEGIN IMMEDIATE, so two processes that both
    want to write queue on the busy timeout instead of failing with SQLITE_BUSY half-way.
    """

    reader: AsyncEngine
    writer: AsyncEngine

    @property
    def dialect(self) -> str:
        return self.writer.dialect.name

    @property
    def sqlite_path(self) -> str | None:
        """The database file, for SQLite on a file (None otherwise)."""
        if self.dialect != "sqlite":
            return None
        path = self.writer.url.database
        return path if path and path != ":memory:" else None

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        async with self.reader.connect() as conn:
            yield conn

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncConnection]:
        async with self.writer.begin() as conn:
            yield conn

    async def ping(self) -> None:
        async with self.read() as conn:
            await conn.execute(text("SELECT 1"))

    async def dispose(self) -> None:
        await self.writer.dispose()
        if self.reader is not self.writer:
            await self.reader.dispose()


def _sqlite_engine(url: str, *, immediate: bool) -> AsyncEngine:
    # One writer connection per process: concurrent writers queue on the pool (FIFO, at once)
    # instead of on SQLite's busy handler, which sleep-polls for up to 100 ms at a time.
    pool = {"pool_size": 1, "max_overflow": 0, "pool_timeout": 60} if immediate else {}
    engine = create_async_engine(url, connect_args={"timeout": 30}, **pool)

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_conn.cursor()
        for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "busy_timeout=30000"):
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


def open_database(settings: DatabaseSettings) -> Database:
    """Engines for `settings.database_url`; nothing connects until first use."""
    url = settings.database_url
    if url.startswith("sqlite"):
        return Database(
            reader=_sqlite_engine(url, immediate=False), writer=_sqlite_engine(url, immediate=True)
        )
    engine = create_async_engine(
        url,
        pool_size=settings.database_pool_size,
        pool_pre_ping=True,
        connect_args=postgres_connect_args(settings),
    )
    return Database(reader=engine, writer=engine)


def postgres_connect_args(settings: DatabaseSettings) -> dict[str, Any]:
    """asyncpg's connect arguments: TLS as DATABASE_SSL_MODE says, and the statement timeout."""
    args: dict[str, Any] = {}
    if settings.database_statement_timeout_ms:
        args["server_settings"] = {"statement_timeout": str(settings.database_statement_timeout_ms)}
    mode = settings.database_ssl_mode
    if mode in ("verify-ca", "verify-full"):
        context = ssl.create_default_context(cafile=settings.database_ssl_root_cert)
        context.check_hostname = mode == "verify-full"
        args["ssl"] = context
    elif mode is not None:
        args["ssl"] = mode  # disable, allow, prefer, require: asyncpg takes libpq's words
    return args
