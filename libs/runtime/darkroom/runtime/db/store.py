"""JobStore: every read and write of job records, the event history and the outbox."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Select, delete, func, insert, select, text, true, tuple_
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from darkroom.contracts.envelope import utcnow
from darkroom.contracts.events import JobEvent, job_event_adapter
from darkroom.runtime.db.cursor import Cursor
from darkroom.runtime.db.engine import OUTBOX_CHANNEL, Database
from darkroom.runtime.db.projection import apply_batch, event_row
from darkroom.runtime.db.tables import job_events, jobs, outbox, uploads


@dataclass(frozen=True)
class NewJob:
    job_id: uuid.UUID
    user_id: str
    type: str
    params: dict[str, Any]
    created_at: datetime
    last_seq: int  # seq of the newest event already reflected in the row
    priority: str = "normal"
    parent_id: uuid.UUID | None = None  # the batch or chain it belongs to


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
    parent_id: uuid.UUID | None = None  # the batch or chain it belongs to

    @classmethod
    def from_row(cls, row: Any) -> JobRecord:
        values = dict(row._mapping)
        values["job_id"] = uuid.UUID(values["job_id"])
        if values.get("parent_id") is not None:
            values["parent_id"] = uuid.UUID(values["parent_id"])
        return cls(**values)


@dataclass(frozen=True)
class UploadRecord:
    """An image a user uploaded, usable as an input of their jobs."""

    asset_id: uuid.UUID
    user_id: str
    key: str
    content_type: str
    width: int
    height: int
    bytes: int
    sha256: str
    created_at: datetime

    @classmethod
    def from_row(cls, row: Any) -> UploadRecord:
        values = dict(row._mapping)
        values["asset_id"] = uuid.UUID(values["asset_id"])
        return cls(**values)


@dataclass(frozen=True)
class FamilyChange:
    """What a parent's children caused: the parent's events (with their column changes), new
    child jobs (the next step of a chain), and outbox messages."""

    events: list[tuple[JobEvent, dict[str, Any]]] = field(default_factory=list)
    new_jobs: list[NewJobWrite] = field(default_factory=list)
    messages: list[OutboxMessage] = field(default_factory=list)


# Decides from a parent and its children (as of now, in the transaction) what follows.
React = Callable[[JobRecord, list[JobRecord]], FamilyChange]


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
        async with self.db.write() as conn:
            await self._insert_jobs(conn, jobs_)

    async def _insert_jobs(self, conn: AsyncConnection, jobs_: Sequence[NewJobWrite]) -> None:
        job_rows = [_new_job_row(job) for job, _, _ in jobs_]
        event_rows = [event_row(e) for _, events, _ in jobs_ for e in events]
        outbox_rows = [_outbox_row(m, job.created_at) for job, _, ms in jobs_ for m in ms]
        await conn.execute(insert(jobs), job_rows)
        if event_rows:
            await conn.execute(insert(job_events), event_rows)
        await self._insert_outbox(conn, outbox_rows)

    async def _insert_outbox(self, conn: AsyncConnection, rows: list[dict[str, Any]]) -> None:
        if rows:
            await conn.execute(insert(outbox), rows)
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
            await self._write_change(conn, *plan(record))
        return record

    async def change_family(
        self, parent_id: uuid.UUID, plan: Callable[[JobRecord, list[JobRecord]], JobChange]
    ) -> JobRecord | None:
        """`change_job` for a parent and its children: `plan` sees both and may change any of
        them, in one write transaction. Returns the parent as it was, or None."""
        async with self.db.write() as conn:
            family = await self._family(conn, parent_id)
            if family is None:
                return None
            parent, children = family
            await self._write_change(conn, *plan(parent, children))
        return parent

    async def _write_change(
        self,
        conn: AsyncConnection,
        changes: Sequence[tuple[JobEvent, dict[str, Any]]],
        messages: Sequence[OutboxMessage],
        new_jobs: Sequence[NewJobWrite] = (),
    ) -> None:
        """New jobs, then events applied to their jobs, then outbox messages: one transaction's."""
        if new_jobs:
            await self._insert_jobs(conn, new_jobs)
        if changes:
            await apply_batch(conn, self._insert, changes)
        await self._insert_outbox(conn, [_outbox_row(m, utcnow()) for m in messages])

    async def _family(
        self, conn: AsyncConnection, parent_id: uuid.UUID
    ) -> tuple[JobRecord, list[JobRecord]] | None:
        """The parent (locked on PostgreSQL) and its children, oldest first."""
        query = select(jobs).where(jobs.c.job_id == str(parent_id))
        if self.db.dialect == "postgresql":
            query = query.with_for_update()
        row = (await conn.execute(query)).first()
        if row is None:
            return None
        children = await conn.execute(_children_query(parent_id))
        return JobRecord.from_row(row), [JobRecord.from_row(r) for r in children]

    async def children_of(self, parent_id: uuid.UUID) -> list[JobRecord]:
        """A parent's children, oldest first (a batch's in prompt order, a chain's in step order)."""
        async with self.db.read() as conn:
            return [JobRecord.from_row(r) for r in await conn.execute(_children_query(parent_id))]

    async def create_upload(self, upload: UploadRecord) -> None:
        row = {**upload.__dict__, "asset_id": str(upload.asset_id)}
        async with self.db.write() as conn:
            await conn.execute(insert(uploads), [row])

    async def get_upload(self, asset_id: uuid.UUID) -> UploadRecord | None:
        query = select(uploads).where(uploads.c.asset_id == str(asset_id))
        async with self.db.read() as conn:
            row = (await conn.execute(query)).first()
        return UploadRecord.from_row(row) if row else None

    async def stalled_jobs(
        self,
        statuses: Collection[str],
        quiet_since: datetime,
        limit: int,
        types: Collection[str] | None = None,
    ) -> list[JobRecord]:
        """Jobs in `statuses` (of `types`, if given) with no event since `quiet_since`, oldest
        first."""
        query = (
            select(jobs)
            .where(jobs.c.status.in_(list(statuses)), jobs.c.updated_at < quiet_since)
            .where(jobs.c.type.in_(list(types)) if types is not None else true())
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

    async def apply_events(
        self, changes: Sequence[tuple[JobEvent, dict[str, Any]]], react: React | None = None
    ) -> int:
        """Record each event once and apply its column changes if it is newer than the job.

        A duplicate (same event id) changes nothing; an older event is recorded in the history
        but leaves the job row alone; a terminal job never changes again. One transaction for
        the whole batch. Returns how many events were new.

        With `react`, each parent whose children had new events is handed to it, with its
        children as they are now, and what it decides is written in the same transaction: a
        child's event moves its parent exactly once, however often the event is delivered.
        """
        if not changes:
            return 0
        async with self.db.write() as conn:
            fresh = await apply_batch(conn, self._insert, changes)
            if react is not None:
                parents = sorted({str(e.parent_id) for e in fresh if e.parent_id is not None})
                for parent_id in parents:
                    await self._react(conn, uuid.UUID(parent_id), react)
            return len(fresh)

    async def _react(self, conn: AsyncConnection, parent_id: uuid.UUID, react: React) -> None:
        family = await self._family(conn, parent_id)
        if family is None:
            return
        change = react(*family)
        await self._write_change(conn, change.events, change.messages, change.new_jobs)

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


def _children_query(parent_id: uuid.UUID) -> Select[Any]:
    return (
        select(jobs)
        .where(jobs.c.parent_id == str(parent_id))
        .order_by(jobs.c.created_at, jobs.c.job_id)
    )


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
        "parent_id": str(job.parent_id) if job.parent_id else None,
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
