"""PostgreSQL LISTEN/NOTIFY: the gateway's commit wakes the outbox relay at once."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from darkroom.runtime.db.engine import OUTBOX_CHANNEL, Database

logger = logging.getLogger(__name__)


@asynccontextmanager
async def outbox_notifications(db: Database, on_notify: Callable[[], None]) -> AsyncIterator[bool]:
    """Call `on_notify` on every outbox commit; yields False on SQLite, which has no notifications.

    If the listening connection drops, wake-ups stop until restart; the relay's sweep interval
    still bounds the delay, so nothing is lost.
    """
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
