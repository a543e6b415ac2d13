"""Applying events to the job table: each judged by the job core, in the order they came.

Per batch: one query for which events are new, one (locking) query of the affected jobs, the
verdicts computed in memory in arrival order, one insert into the history (refused events too,
marked `accepted = false`: kept for operators, never shown), then one UPDATE per distinct set of
changed columns. `started_at` keeps the first start.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import bindparam, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection

from darkroom.contracts.events import JobEvent
from darkroom.contracts.jobtypes import JobStatus
from darkroom.jobs.records import Change
from darkroom.jobs.transitions import JobState, Verdict, advance, judge
from darkroom.runtime.db.rows import event_row
from darkroom.runtime.db.tables import job_events, jobs

logger = logging.getLogger(__name__)


HISTORY_LOCK = 0x6A6F62  # one advisory lock for every writer of job_events (PostgreSQL)


async def hold_history_lock(conn: AsyncConnection) -> None:
    """Writers of `job_events` take turns until they commit (PostgreSQL), so ids become visible
    in the order they were given: a stream that read event N never finds an N - 1 later."""
    await conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": HISTORY_LOCK})


@dataclass
class _Job:
    """One job's state while a batch is judged, and the columns its accepted events set."""

    state: JobState
    started: bool
    columns: dict[str, Any] = field(default_factory=dict)


async def apply_changes(
    conn: AsyncConnection, insert: Callable[..., Any], changes: Sequence[Change], lock: bool
) -> list[JobEvent]:
    """Record the new events of `changes`, apply the accepted ones; returns the accepted ones."""
    fresh = await _new_changes(conn, changes)
    if not fresh:
        return []
    current = await _load(conn, {str(c.event.job_id) for c in fresh}, lock)
    rows, accepted = [], []
    for change in fresh:
        job = current.get(str(change.event.job_id))
        verdict = _apply(job, change) if job is not None else Verdict.ENDED
        rows.append(event_row(change.event, verdict is Verdict.ACCEPTED))
        if verdict is Verdict.ACCEPTED:
            accepted.append(change.event)
        else:
            _log_refusal(change.event, verdict)
    if lock:
        await hold_history_lock(conn)
    stmt = insert(job_events).on_conflict_do_nothing(index_elements=["event_id"])
    await conn.execute(stmt, rows)
    await _update(conn, {job_id: job.columns for job_id, job in current.items() if job.columns})
    return accepted


def _apply(job: _Job, change: Change) -> Verdict:
    event = change.event
    verdict = judge(job.state, event)
    if verdict is not Verdict.ACCEPTED:
        return verdict
    job.state = advance(job.state, event)
    columns = change.update.columns()
    if "started_at" in columns:
        if job.started:
            del columns["started_at"]
        job.started = True
    job.columns.update(columns, last_seq=event.seq, updated_at=event.occurred_at)
    return verdict


def _log_refusal(event: JobEvent, verdict: Verdict) -> None:
    logger.info(
        "job %s refused %s seq=%d attempt=%d: %s",
        event.job_id,
        event.type,
        event.seq,
        event.attempt,
        verdict.value,
        extra={"job_id": str(event.job_id), "event_id": str(event.event_id)},
    )


async def _new_changes(conn: AsyncConnection, changes: Sequence[Change]) -> list[Change]:
    unique: dict[str, Change] = {}
    for change in changes:
        unique.setdefault(str(change.event.event_id), change)
    query = select(job_events.c.event_id).where(job_events.c.event_id.in_(list(unique)))
    seen = set((await conn.execute(query)).scalars())
    return [change for event_id, change in unique.items() if event_id not in seen]


async def _load(conn: AsyncConnection, job_ids: set[str], lock: bool) -> dict[str, _Job]:
    columns = (jobs.c.job_id, jobs.c.status, jobs.c.last_seq, jobs.c.run_id, jobs.c.started_at)
    query = select(*columns).where(jobs.c.job_id.in_(sorted(job_ids)))
    if lock:
        query = query.with_for_update()
    return {
        r.job_id: _Job(
            JobState(JobStatus(r.status), r.last_seq, uuid.UUID(r.run_id) if r.run_id else None),
            started=r.started_at is not None,
        )
        for r in await conn.execute(query)
    }


async def _update(conn: AsyncConnection, merged: dict[str, dict[str, Any]]) -> None:
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for job_id, values in merged.items():
        names = tuple(sorted(values))
        params = {f"v_{c}": values[c] for c in names} | {"b_job_id": job_id}
        groups.setdefault(names, []).append(params)
    for names, rows in groups.items():
        values = {c: bindparam(f"v_{c}", type_=jobs.c[c].type) for c in names}
        guard = jobs.c.job_id == bindparam("b_job_id")
        await conn.execute(update(jobs).where(guard).values(values), rows)
