"""Applying a batch of job events to the job table in a handful of statements.

Per batch: one query for which events are new, one insert into the history, one query of the
affected jobs, then one UPDATE per distinct set of changed columns. The rules are those of
applying events one by one: a duplicate changes nothing, an event older than the job's
`last_seq` only joins the history, a terminal job never changes again (except a failed job sent
back to the queue by `job.requeued`, which starts a new series of attempts), and `started_at`
keeps the first start.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from darkroom.contracts.events import JobEvent, encode_event
from darkroom.contracts.jobtypes import TERMINAL_STATUSES, JobStatus
from darkroom.runtime.db.tables import job_events, jobs

TERMINAL = frozenset(s.value for s in TERMINAL_STATUSES)
FAILED, REQUEUED = JobStatus.FAILED.value, "job.requeued"
Change = tuple[JobEvent, dict[str, Any]]


def event_row(event: JobEvent) -> dict[str, Any]:
    return {
        "event_id": str(event.event_id),
        "job_id": str(event.job_id),
        "seq": event.seq,
        "type": event.type,
        "occurred_at": event.occurred_at,
        "payload": encode_event(event).decode(),
    }


async def apply_batch(
    conn: AsyncConnection, insert: Callable[..., Any], changes: Sequence[Change]
) -> list[JobEvent]:
    """Record the new events of `changes` and apply them to their jobs; returns the new ones."""
    fresh = await _new_events(conn, changes)
    if not fresh:
        return []
    stmt = insert(job_events).on_conflict_do_nothing(index_elements=["event_id"])
    await conn.execute(stmt, [event_row(e) for e, _ in fresh])
    job_ids = {str(e.job_id) for e, _ in fresh}
    current = {
        r.job_id: r
        for r in await conn.execute(
            select(jobs.c.job_id, jobs.c.last_seq, jobs.c.status, jobs.c.started_at).where(
                jobs.c.job_id.in_(job_ids)
            )
        )
    }
    for columns, params in _group_by_columns(merge(fresh, current)).items():
        values = {c: bindparam(f"v_{c}", type_=jobs.c[c].type) for c in columns}
        guard = (jobs.c.job_id == bindparam("b_job_id"), jobs.c.last_seq < bindparam("v_last_seq"))
        await conn.execute(update(jobs).where(*guard).values(values), params)
    return [event for event, _ in fresh]


async def _new_events(conn: AsyncConnection, changes: Sequence[Change]) -> list[Change]:
    unique: dict[str, Change] = {}
    for event, values in changes:
        unique.setdefault(str(event.event_id), (event, values))
    query = select(job_events.c.event_id).where(job_events.c.event_id.in_(list(unique)))
    seen = set((await conn.execute(query)).scalars())
    return [change for event_id, change in unique.items() if event_id not in seen]


def merge(fresh: Sequence[Change], current: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Per job, the columns that applying its new events in seq order would set."""
    merged: dict[str, dict[str, Any]] = {}
    for event, values in sorted(fresh, key=lambda change: change[0].seq):
        row = current.get(str(event.job_id))
        if row is None:
            continue
        acc = merged.get(row.job_id, {})
        status = acc.get("status", row.status)
        if event.seq <= acc.get("last_seq", row.last_seq) or (
            status in TERMINAL and not (event.type == REQUEUED and status == FAILED)
        ):
            continue
        changes = dict(values)
        if "started_at" in changes and (row.started_at is not None or "started_at" in acc):
            del changes["started_at"]
        merged[row.job_id] = {
            **acc,
            **changes,
            "last_seq": event.seq,
            "updated_at": event.occurred_at,
        }
    return merged


def _group_by_columns(
    merged: dict[str, dict[str, Any]],
) -> dict[tuple[str, ...], list[dict[str, Any]]]:
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for job_id, values in merged.items():
        columns = tuple(sorted(values))
        params = {f"v_{c}": values[c] for c in columns} | {"b_job_id": job_id}
        groups.setdefault(columns, []).append(params)
    return groups
