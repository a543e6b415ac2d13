"""JobStore: every read and write of job records and their history.

Writes run what a plan of the job core (`darkroom.jobs`) decided: the store reads the job (or
family) inside a write transaction, hands it to the plan, and writes the plan's new jobs, events
(judged by the core's transition table) and outbox messages in that same transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Collection, Sequence
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import Select, insert, select, text, true, tuple_
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from darkroom.contracts.envelope import utcnow
from darkroom.contracts.events import JobEvent
from darkroom.jobs.records import Change, JobRecord, NewJobPlan, OutboxMessage, Plan
from darkroom.runtime.db.cursor import Cursor
from darkroom.runtime.db.engine import OUTBOX_CHANNEL, Database
from darkroom.runtime.db.history import EventHistory
from darkroom.runtime.db.outbox import OutboxStore
from darkroom.runtime.db.projection import apply_changes, hold_history_lock
from darkroom.runtime.db.rows import (
    event_row,
    new_job_row,
    outbox_row,
    record_from_row,
    subscription_row,
)
from darkroom.runtime.db.tables import job_events, jobs, outbox, webhook_subscriptions
from darkroom.runtime.db.uploads import UploadStore

Decide = Callable[[JobRecord], Plan]
DecideFamily = Callable[[JobRecord, list[JobRecord]], Plan]
React = DecideFamily  # the projector's: what children's new events make of their parent


class JobListing(NamedTuple):
    """A page of a user's jobs."""

    jobs: list[JobRecord]
    next_cursor: Cursor | None  # None: the last page


def dialect_insert(db: Database) -> Any:
    """The INSERT construct with ON CONFLICT of the database's dialect."""
    return pg_insert if db.dialect == "postgresql" else sqlite_insert


class JobStore:
    """The job tables behind one small API; the same SQL runs on SQLite and PostgreSQL."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._insert = dialect_insert(db)
        self._lock = db.dialect == "postgresql"
        self.outbox = OutboxStore(db)
        self.uploads = UploadStore(db)
        self.history = EventHistory(db)

    async def create_jobs(self, plans: Sequence[NewJobPlan]) -> None:
        """Store new jobs, their first events and messages in one transaction: one statement per
        table, not per job."""
        async with self.db.write() as conn:
            await self._insert_jobs(conn, plans)

    async def _insert_jobs(self, conn: AsyncConnection, plans: Sequence[NewJobPlan]) -> None:
        await conn.execute(insert(jobs), [new_job_row(p.job) for p in plans])
        if webhooks := [subscription_row(p.job) for p in plans if p.job.webhook]:
            await conn.execute(insert(webhook_subscriptions), webhooks)
        event_rows = [event_row(e) for p in plans for e in p.events]
        if event_rows:
            if self._lock:
                await hold_history_lock(conn)
            await conn.execute(insert(job_events), event_rows)
        now = min(p.job.created_at for p in plans)
        await self._insert_outbox(conn, [m for p in plans for m in p.messages], now)

    async def _insert_outbox(
        self, conn: AsyncConnection, messages: Sequence[OutboxMessage], now: datetime
    ) -> None:
        if messages:
            await conn.execute(insert(outbox), [outbox_row(m, now) for m in messages])
            if self.db.dialect == "postgresql":
                await conn.execute(text(f"NOTIFY {OUTBOX_CHANNEL}"))

    async def change_job(self, job_id: uuid.UUID, decide: Decide) -> JobRecord | None:
        """Read the job and write what `decide` plans from it, in one write transaction (BEGIN
        IMMEDIATE on SQLite, a row lock on PostgreSQL), so the job cannot change between the
        decision and its effects. Returns the job as it was, or None if there is none."""
        async with self.db.write() as conn:
            record = await self._read(conn, job_id)
            if record is None:
                return None
            await self._write(conn, decide(record))
        return record

    async def change_family(self, parent_id: uuid.UUID, decide: DecideFamily) -> JobRecord | None:
        """`change_job` for a parent and its children: `decide` sees both and may change any of
        them, in one write transaction. Returns the parent as it was, or None."""
        async with self.db.write() as conn:
            parent = await self._read(conn, parent_id)
            if parent is None:
                return None
            await self._write(conn, decide(parent, await self._children(conn, parent_id)))
        return parent

    async def _write(self, conn: AsyncConnection, plan: Plan) -> None:
        """New jobs, then events applied to their jobs, then outbox messages."""
        if plan.new_jobs:
            await self._insert_jobs(conn, plan.new_jobs)
        if plan.changes:
            await apply_changes(conn, self._insert, plan.changes, self._lock)
        await self._insert_outbox(conn, plan.messages, utcnow())

    async def _read(self, conn: AsyncConnection, job_id: uuid.UUID) -> JobRecord | None:
        query = select(jobs).where(jobs.c.job_id == str(job_id))
        if self._lock:
            query = query.with_for_update()
        row = (await conn.execute(query)).first()
        return record_from_row(row) if row is not None else None

    async def _children(self, conn: AsyncConnection, parent_id: uuid.UUID) -> list[JobRecord]:
        return [record_from_row(r) for r in await conn.execute(_children_query(parent_id))]

    async def apply_events(self, changes: Sequence[Change], react: React | None = None) -> int:
        """Record each event once and apply it if its job accepts it (the job core's verdict);
        one transaction for the whole batch. Returns how many events were accepted.

        With `react`, each parent whose children had accepted events is handed to it, with its
        children as they are now, and what it plans is written in the same transaction: a
        child's event moves its parent exactly once, however often the event is delivered.
        """
        if not changes:
            return 0
        async with self.db.write() as conn:
            accepted = await apply_changes(conn, self._insert, changes, self._lock)
            if react is not None:
                for parent_id in sorted({str(e.parent_id) for e in accepted if e.parent_id}):
                    parent = await self._read(conn, uuid.UUID(parent_id))
                    if parent is not None:
                        children = await self._children(conn, parent.job_id)
                        await self._write(conn, react(parent, children))
            return len(accepted)

    async def children_of(self, parent_id: uuid.UUID) -> list[JobRecord]:
        """A parent's children, oldest first (a batch's in prompt order, a chain's in step order)."""
        async with self.db.read() as conn:
            return await self._children(conn, parent_id)

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
            return [record_from_row(r) for r in await conn.execute(query)]

    async def get_job(self, job_id: uuid.UUID) -> JobRecord | None:
        async with self.db.read() as conn:
            row = (await conn.execute(select(jobs).where(jobs.c.job_id == str(job_id)))).first()
        return record_from_row(row) if row else None

    async def list_jobs(
        self,
        user_id: str,
        *,
        limit: int,
        cursor: Cursor | None = None,
        status: str | None = None,
        job_type: str | None = None,
    ) -> JobListing:
        """The user's jobs, newest first, and the cursor of the next page (None at the end)."""
        query = _list_query(user_id, cursor, status, job_type).limit(limit + 1)
        async with self.db.read() as conn:
            records = [record_from_row(r) for r in await conn.execute(query)]
        if len(records) <= limit:
            return JobListing(records, None)
        last = records[limit - 1]
        return JobListing(
            records[:limit], Cursor(created_at=last.created_at, job_id=str(last.job_id))
        )

    async def events_for(self, job_id: uuid.UUID, after_seq: int = 0) -> list[JobEvent]:
        """The job's accepted events with seq > after_seq, in order."""
        return [r.event for r in await self.history.job_events_after(job_id, after_seq)]


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
