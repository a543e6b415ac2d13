"""JobStore: every read and write of job records, the event history and the outbox."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, delete, func, insert, select, text, tuple_
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from darkroom.contracts.envelope import utcnow
from darkroom.contracts.events import JobEvent, job_event_adapter
from darkroom.runtime.db.cursor import Cursor
from darkroom.runtime.db.engine import OUTBOX_CHANNEL, Database
from darkroom.runtime.db.projection import apply_batch, event_row
from darkroom.runtime.db.tables import job_events, jobs, outbox


@dataclass(frozen=True)
class NewJob:
    job_id: uuid.UUID
    user_id: str
    type: str
    params: dict[str, Any]
    created_at: datetime
    last_seq: int  # seq of the newest event already reflected in the row
    priority: str = "normal"


@dataclass(frozen=True)
class OutboxMessage:
    topic: str
    key: str
    payload: bytes
    headers: dict[str, str]


@dataclass(frozen=True)
class OutboxRow(OutboxMessage):
    id: int


NewJobWrite = tuple[NewJob, Sequence[JobEvent], Sequence[OutboxMessage]]


@dataclass(frozen=True)
class JobRecord:
    job_id: uuid.UUID
    user_id: str
    type: str
    status: str
    progress: int
    message: str | None
    attempts: int
    last_seq: int
    params: dict[str, Any]
    result: dict[str, Any] | None
    error: dict[str, Any] | None
    created_at: datetime
    updated_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    priority: str = "normal"
    series_start: int = (
        1  # first attempt of the current series (a retry of a failed job starts one)
    )

    @classmethod
    def from_row(cls, row: Any) -> JobRecord:
        values = dict(row._mapping)
        values["job_id"] = uuid.UUID(values["job_id"])
        return cls(**values)


def dialect_insert(db: Database) -> Any:
    """The INSERT construct with ON CONFLICT of the database's dialect."""
    return pg_insert if db.dialect == "postgresql" else sqlite_insert


# What a change of an existing job writes: events with their column changes, and outbox messages.
JobChange = tuple[list[tuple[JobEvent, dict[str, Any]]], list[OutboxMessage]]


class JobStore:
    """The job tables behind one small API; the same SQL runs on SQLite and PostgreSQL."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._insert = dialect_insert(db)

    async def create_job(
        self, job: NewJob, events: Sequence[JobEvent], messages: Sequence[OutboxMessage]
    ) -> None:
        """Store the job, its first events and its outbox messages in one transaction."""
        await self.create_jobs([(job, events, messages)])

    async def create_jobs(self, jobs_: Sequence[NewJobWrite]) -> None:
        """Store several new jobs in one transaction: one statement per table, not per job."""
        job_rows = [_new_job_row(job) for job, _, _ in jobs_]
        event_rows = [event_row(e) for _, events, _ in jobs_ for e in events]
        outbox_rows = [_outbox_row(m, job.created_at) for job, _, ms in jobs_ for m in ms]
        async with self.db.write() as conn:
            await conn.execute(insert(jobs), job_rows)
            if event_rows:
                await conn.execute(insert(job_events), event_rows)
            if outbox_rows:
                await conn.execute(insert(outbox), outbox_rows)
            if self.db.dialect == "postgresql":
                await conn.execute(text(f"NOTIFY {OUTBOX_CHANNEL}"))

    async def change_job(
        self, job_id: uuid.UUID, plan: Callable[[JobRecord], JobChange]
    ) -> JobRecord | None:
        """Read the job and apply what `plan` decides from it, in one write transaction.

        The transaction is the writer's (BEGIN IMMEDIATE on SQLite, a row lock on PostgreSQL),
        so the job cannot change between the decision and its effects. Returns the job as it
        was before, or None if there is none.
        """
        query = select(jobs).where(jobs.c.job_id == str(job_id))
        if self.db.dialect == "postgresql":
            query = query.with_for_update()
        async with self.db.write() as conn:
            row = (await conn.execute(query)).first()
            if row is None:
                return None
            record = JobRecord.from_row(row)
            changes, messages = plan(record)
            if changes:
                await apply_batch(conn, self._insert, changes)
            if messages:
                await conn.execute(insert(outbox), [_outbox_row(m, utcnow()) for m in messages])
                if self.db.dialect == "postgresql":
                    await conn.execute(text(f"NOTIFY {OUTBOX_CHANNEL}"))
        return record

    async def stalled_jobs(
        self, statuses: Collection[str], quiet_since: datetime, limit: int
    ) -> list[JobRecord]:
        """Jobs in `statuses` with no event since `quiet_since`, oldest first."""
        query = (
            select(jobs)
            .where(jobs.c.status.in_(list(statuses)), jobs.c.updated_at < quiet_since)
            .order_by(jobs.c.updated_at)
            .limit(limit)
        )
        async with self.db.read() as conn:
            return [JobRecord.from_row(r) for r in await conn.execute(query)]

    async def get_job(self, job_id: uuid.UUID) -> JobRecord | None:
        async with self.db.read() as conn:
            row = (await conn.execute(select(jobs).where(jobs.c.job_id == str(job_id)))).first()
        return JobRecord.from_row(row) if row else None

    async def list_jobs(
        self,
        user_id: str,
        *,
        limit: int,
        cursor: Cursor | None = None,
        status: str | None = None,
        job_type: str | None = None,
    ) -> tuple[list[JobRecord], Cursor | None]:
        """The user's jobs, newest first, and the cursor of the next page (None at the end)."""
        query = _list_query(user_id, cursor, status, job_type).limit(limit + 1)
        async with self.db.read() as conn:
            records = [JobRecord.from_row(r) for r in await conn.execute(query)]
        if len(records) <= limit:
            return records, None
        last = records[limit - 1]
        return records[:limit], Cursor(created_at=last.created_at, job_id=str(last.job_id))

    async def events_for(self, job_id: uuid.UUID, after_seq: int = 0) -> list[JobEvent]:
        """The job's recorded events with seq > after_seq, in order."""
        query = (
            select(job_events.c.payload)
            .where(job_events.c.job_id == str(job_id), job_events.c.seq > after_seq)
            .order_by(job_events.c.seq, job_events.c.id)
        )
        async with self.db.read() as conn:
            payloads = (await conn.execute(query)).scalars().all()
        return [job_event_adapter.validate_json(p) for p in payloads]

    async def recorded_events(self, event_ids: Collection[uuid.UUID]) -> set[uuid.UUID]:
        """Which of these events are in the recorded history (one query for all of them)."""
        wanted = [str(i) for i in event_ids]
        query = select(job_events.c.event_id).where(job_events.c.event_id.in_(wanted))
        async with self.db.read() as conn:
            return {uuid.UUID(found) for found in (await conn.execute(query)).scalars()}

    async def apply_events(self, changes: Sequence[tuple[JobEvent, dict[str, Any]]]) -> int:
        """Record each event once and apply its column changes if it is newer than the job.

        A duplicate (same event id) changes nothing; an older event is recorded in the history
        but leaves the job row alone; a terminal job never changes again. One transaction for
        the whole batch. Returns how many events were new.
        """
        if not changes:
            return 0
        async with self.db.write() as conn:
            return await apply_batch(conn, self._insert, changes)

    async def fetch_outbox(self, limit: int) -> list[OutboxRow]:
        """The oldest unsent outbox messages."""
        query = select(outbox).order_by(outbox.c.id).limit(limit)
        async with self.db.read() as conn:
            rows = (await conn.execute(query)).all()
        return [
            OutboxRow(id=r.id, topic=r.topic, key=r.key, payload=r.payload, headers=r.headers)
            for r in rows
        ]

    async def delete_outbox(self, ids: Sequence[int]) -> None:
        """Forget messages the broker has acknowledged."""
        async with self.db.write() as conn:
            await conn.execute(delete(outbox).where(outbox.c.id.in_(list(ids))))

    async def count_outbox(self) -> int:
        async with self.db.read() as conn:
            return int((await conn.execute(select(func.count()).select_from(outbox))).scalar_one())


def _list_query(
    user_id: str, cursor: Cursor | None, status: str | None, job_type: str | None
) -> Select[Any]:
    query = select(jobs).where(jobs.c.user_id == user_id)
    if status is not None:
        query = query.where(jobs.c.status == status)
    if job_type is not None:
        query = query.where(jobs.c.type == job_type)
    if cursor is not None:
        query = query.where(
            tuple_(jobs.c.created_at, jobs.c.job_id) < tuple_(cursor.created_at, cursor.job_id)
        )
    return query.order_by(jobs.c.created_at.desc(), jobs.c.job_id.desc())


def _new_job_row(job: NewJob) -> dict[str, Any]:
    return {
        "job_id": str(job.job_id),
        "user_id": job.user_id,
        "type": job.type,
        "status": "queued",
        "progress": 0,
        "message": None,
        "attempts": 0,
        "last_seq": job.last_seq,
        "priority": job.priority,
        "series_start": 1,
        "params": job.params,
        "result": None,
        "error": None,
        "created_at": job.created_at,
        "updated_at": job.created_at,
    }


def _outbox_row(message: OutboxMessage, now: datetime) -> dict[str, Any]:
    return {
        "topic": message.topic,
        "key": message.key,
        "payload": message.payload,
        "headers": message.headers,
        "created_at": now,
    }
