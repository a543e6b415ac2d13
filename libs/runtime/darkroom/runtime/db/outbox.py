"""The outbox: messages written with the change that decided them, published by the relay."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from sqlalchemy import delete, func, select

from darkroom.jobs.records import OutboxMessage
from darkroom.runtime.db.engine import Database
from darkroom.runtime.db.tables import outbox


@dataclass(frozen=True)
class OutboxRow(OutboxMessage):
    id: int


class OutboxStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def fetch(self, limit: int) -> list[OutboxRow]:
        """The oldest unsent outbox messages."""
        query = select(outbox).order_by(outbox.c.id).limit(limit)
        async with self.db.read() as conn:
            rows = (await conn.execute(query)).all()
        return [
            OutboxRow(id=r.id, topic=r.topic, key=r.key, payload=r.payload, headers=r.headers)
            for r in rows
        ]

    async def delete(self, ids: Sequence[int]) -> None:
        """Forget messages the broker has acknowledged."""
        async with self.db.write() as conn:
            await conn.execute(delete(outbox).where(outbox.c.id.in_(list(ids))))

    async def count(self) -> int:
        async with self.db.read() as conn:
            return int((await conn.execute(select(func.count()).select_from(outbox))).scalar_one())

    async def unsent_requests(self, job_ids: Collection[uuid.UUID]) -> set[uuid.UUID]:
        """The request ids still waiting in the outbox for these jobs (the relay has not sent
        them yet)."""
        query = select(outbox.c.headers).where(outbox.c.key.in_([str(j) for j in job_ids]))
        async with self.db.read() as conn:
            headers = (await conn.execute(query)).scalars().all()
        return {uuid.UUID(h["request-id"]) for h in headers if "request-id" in h}
