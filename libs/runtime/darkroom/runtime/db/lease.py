"""A named lease in the database: one holder at a time among any number of processes.

The holder renews it before it expires; if the holder dies, another process takes it once it has
expired. One conditional write decides, so two processes can never both hold it.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import or_, select, update

from darkroom.contracts.envelope import utcnow
from darkroom.runtime.db.engine import Database
from darkroom.runtime.db.store import dialect_insert
from darkroom.runtime.db.tables import leases


async def acquire_lease(db: Database, name: str, holder: str, ttl: timedelta) -> bool:
    """Take or renew the lease `name` for `holder` until now + ttl; False if another holds it."""
    now = utcnow()
    async with db.write() as conn:
        inserted = await conn.execute(
            dialect_insert(db)(leases)
            .values(name=name, holder=holder, expires_at=now + ttl)
            .on_conflict_do_nothing(index_elements=["name"])
        )
        if inserted.rowcount == 1:
            return True
        taken = await conn.execute(
            update(leases)
            .where(leases.c.name == name)
            .where(or_(leases.c.holder == holder, leases.c.expires_at < now))
            .values(holder=holder, expires_at=now + ttl)
        )
        return bool(taken.rowcount == 1)


async def lease_holder(db: Database, name: str) -> str | None:
    async with db.read() as conn:
        row = (await conn.execute(select(leases).where(leases.c.name == name))).first()
    return None if row is None or row.expires_at < utcnow() else str(row.holder)
