"""Reads of the recorded event history for the notifier's streams: accepted events only, in the
order they were recorded (`job_events.id`), and the verdict on events a stream waits for."""

from __future__ import annotations

import uuid
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, exists, func, or_, select

from darkroom.contracts.events import JobEvent, job_event_adapter
from darkroom.runtime.db.engine import Database
from darkroom.runtime.db.tables import job_events, jobs


@dataclass(frozen=True)
class RecordedEvent:
    """An accepted event and its place in the recorded history."""

    id: int  # job_events.id: the order in which the events were recorded
    event: JobEvent


@dataclass(frozen=True)
class Verdict:
    """What the projector made of a recorded event."""

    id: int  # job_events.id
    accepted: bool  # False: refused (a superseded attempt's report, one after the end, a stale seq)


class EventHistory:
    """The `job_events` table as the streams read it; the same SQL on SQLite and PostgreSQL."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def verdicts(self, event_ids: Collection[uuid.UUID]) -> dict[uuid.UUID, Verdict]:
        """The verdict on each of these events that is recorded (absent: not recorded yet)."""
        if not event_ids:
            return {}
        query = select(job_events.c.event_id, job_events.c.id, job_events.c.accepted).where(
            job_events.c.event_id.in_([str(i) for i in event_ids])
        )
        async with self.db.read() as conn:
            rows = (await conn.execute(query)).all()
        return {uuid.UUID(r.event_id): Verdict(r.id, bool(r.accepted)) for r in rows}

    async def job_events_after(self, job_id: uuid.UUID, after_seq: int) -> list[RecordedEvent]:
        """The job's accepted events with seq > after_seq, by seq."""
        query = (
            _accepted()
            .where(job_events.c.job_id == str(job_id), job_events.c.seq > after_seq)
            .order_by(job_events.c.seq, job_events.c.id)
        )
        return await self._read(query)

    async def family_events_after(
        self, parent_id: uuid.UUID, after_id: int, limit: int
    ) -> list[RecordedEvent]:
        """The first `limit` accepted events after `after_id` of a batch or chain and of all its
        children, in recorded order."""
        family = select(jobs.c.job_id).where(
            or_(jobs.c.job_id == str(parent_id), jobs.c.parent_id == str(parent_id))
        )
        query = _accepted().where(job_events.c.job_id.in_(family), job_events.c.id > after_id)
        return await self._read(query.order_by(job_events.c.id).limit(limit))

    async def user_events_after(
        self, user_id: str, after_id: int, limit: int
    ) -> list[RecordedEvent]:
        """The first `limit` accepted events after `after_id` of all the user's jobs, in recorded
        order."""
        # EXISTS, not a join: SQLite then walks job_events from `after_id` on (a live stream
        # reads a few rows) instead of every event of every job of the user, then sorting.
        owned = exists().where(jobs.c.job_id == job_events.c.job_id, jobs.c.user_id == user_id)
        query = _accepted().where(owned, job_events.c.id > after_id)
        return await self._read(query.order_by(job_events.c.id).limit(limit))

    async def newest_id(self) -> int:
        """The id of the last event recorded (0 when there is none): a stream that starts
        there sends what is recorded from now on."""
        async with self.db.read() as conn:
            newest = (await conn.execute(select(func.max(job_events.c.id)))).scalar_one()
        return int(newest or 0)

    async def _read(self, query: Select[Any]) -> list[RecordedEvent]:
        async with self.db.read() as conn:
            rows = (await conn.execute(query)).all()
        return [RecordedEvent(r.id, job_event_adapter.validate_json(r.payload)) for r in rows]


def _accepted() -> Select[Any]:
    return select(job_events.c.id, job_events.c.payload).where(job_events.c.accepted)
