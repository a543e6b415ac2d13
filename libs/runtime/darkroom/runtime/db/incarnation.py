"""Which log of the broker the jobs were last sent to (its incarnation), by incarnation topic."""

from __future__ import annotations

import uuid

from sqlalchemy import select, update

from darkroom.contracts.envelope import utcnow
from darkroom.runtime.db.engine import Database
from darkroom.runtime.db.store import dialect_insert
from darkroom.runtime.db.tables import broker_incarnations


async def recorded_incarnation(db: Database, name: str) -> uuid.UUID | None:
    """The incarnation recorded under `name`; None if none was yet."""
    async with db.read() as conn:
        row = (
            await conn.execute(
                select(broker_incarnations.c.incarnation).where(broker_incarnations.c.name == name)
            )
        ).first()
    return None if row is None else uuid.UUID(row.incarnation)


async def record_incarnation(db: Database, name: str, incarnation: uuid.UUID) -> None:
    """Record `incarnation` under `name` (replacing the one before)."""
    values = {"incarnation": str(incarnation), "seen_at": utcnow()}
    async with db.write() as conn:
        inserted = await conn.execute(
            dialect_insert(db)(broker_incarnations)
            .values(name=name, **values)
            .on_conflict_do_nothing(index_elements=["name"])
        )
        if inserted.rowcount != 1:
            await conn.execute(
                update(broker_incarnations)
                .where(broker_incarnations.c.name == name)
                .values(**values)
            )
