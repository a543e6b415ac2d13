"""Wake the outbox relay when the gateway commits: LISTEN/NOTIFY on PostgreSQL, and on SQLite
a watch of `PRAGMA data_version`, which changes whenever another connection commits."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from darkroom.runtime.db.engine import OUTBOX_CHANNEL, Database

logger = logging.getLogger(__name__)


SQLITE_WATCH_INTERVAL_S = 0.005


@asynccontextmanager
async def outbox_notifications(db: Database, on_notify: Callable[[], None]) -> AsyncIterator[bool]:
    """Call `on_notify` on every outbox commit (PostgreSQL) or any commit (SQLite); yields whether
    wake-ups are on.

    If the listening connection drops, wake-ups stop until restart; the relay's sweep interval
    still bounds the delay, so nothing is lost.
    """
    if db.dialect == "sqlite" and db.sqlite_path is not None:
        watch = asyncio.create_task(_watch_sqlite(db.sqlite_path, on_notify))
        try:
            yield True
        finally:
            watch.cancel()
            await asyncio.gather(watch, return_exceptions=True)
        return
    if db.dialect != "postgresql":
        yield False
        return
    async with db.writer.connect() as conn:
        raw = (await conn.get_raw_connection()).driver_connection

        def listener(*_: Any) -> None:
            on_notify()

        await raw.add_listener(OUTBOX_CHANNEL, listener)
        logger.info("listening for outbox notifications on %s", OUTBOX_CHANNEL)
        try:
            yield True
        finally:
            await raw.remove_listener(OUTBOX_CHANNEL, listener)


async def _watch_sqlite(path: str, on_change: Callable[[], None]) -> None:
    """Poll `PRAGMA data_version` every few ms: microseconds on the loop, against about a
    millisecond of thread hops for a query, so an idle relay costs next to no CPU."""
    conn = sqlite3.connect(path, timeout=0, isolation_level=None, check_same_thread=False)
    try:
        seen = None
        while True:
            try:
                version = conn.execute("PRAGMA data_version").fetchone()[0]
            except sqlite3.OperationalError:  # busy: wake anyway, the relay's query will wait
                version = None
            if version != seen or version is None:
                seen = version
                on_change()
            await asyncio.sleep(SQLITE_WATCH_INTERVAL_S)
    finally:
        conn.close()
