"""Sending a failed job back to the queue, as the same job (a user's retry, an operator's
dead-letter redrive).

`job.requeued` and a new request, in one transaction with the job's row. The new series of
attempts numbers on from the job's last attempt and event, so no id of the earlier series is
reused, and it has the attempt budget anew (`series_start`).

- a failed job of a worker type runs again; if its batch or chain had ended because of it, the
  parent is reopened, so a chain goes on with its next step and a batch recomputes its outcome;
- a failed (or completed_with_errors) batch or chain: every failed child runs again, and the
  parent is reopened: one click for the user.
Only failed jobs are retried: a completed one has its result, a cancelled one was stopped on
purpose, and one that has not ended is still being worked on.
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import datetime

from darkroom.contracts.events import JobRequeued
from darkroom.contracts.jobtypes import JobStatus
from darkroom.contracts.topics import Topics
from darkroom.jobs.messages import event_message, rerun_message
from darkroom.jobs.numbering import EventNumbering
from darkroom.jobs.records import Change, JobRecord, Plan
from darkroom.jobs.transitions import update_for

REOPENABLE = frozenset({JobStatus.FAILED.value, JobStatus.COMPLETED_WITH_ERRORS.value})


def plan_retry(record: JobRecord, by: str, topics: Topics, now: datetime) -> Plan:
    """Retrying one job of a worker type: nothing unless it is failed."""
    if record.status != JobStatus.FAILED.value or record.job_type.is_parent:
        return Plan()
    attempt, seq = record.attempts + 1, record.last_seq + 1
    run = uuid.uuid5(record.job_id, f"retry/{seq}")
    requeued = _requeued(record, by, attempt, now, run)
    request = rerun_message(
        record,
        topics,
        request_id=run,
        attempt=attempt,
        first_seq=seq + 1,
        series_start=attempt,
        now=now,
    )
    return Plan(
        [Change(requeued, update_for(requeued))], [event_message(topics, requeued), request]
    )


def plan_retry_in_family(
    parent: JobRecord,
    children: list[JobRecord],
    target: uuid.UUID,
    by: str,
    topics: Topics,
    now: datetime,
) -> Plan:
    """Retrying the parent (its failed children) or one child, and reopening the parent."""
    if target == parent.job_id:
        if parent.status not in REOPENABLE:
            return Plan()
        plan = Plan()
        for child in _to_retry(parent, children):
            plan.extend(plan_retry(child, by, topics, now))
    else:
        child = next((c for c in children if c.job_id == target), None)
        plan = plan_retry(child, by, topics, now) if child is not None else Plan()
    if plan and parent.status in REOPENABLE:
        plan.extend(_reopen(parent, by, topics, now, len(plan.changes)))
    return plan


def _to_retry(parent: JobRecord, children: list[JobRecord]) -> list[JobRecord]:
    """The children a retry of the parent runs again: a batch's failed ones, a chain's last step
    (the one that failed; the steps before it completed)."""
    failed = [c for c in children if c.status == JobStatus.FAILED.value]
    if parent.type == "chain":
        return failed[-1:] if children and children[-1].status == JobStatus.FAILED.value else []
    return failed


def _reopen(parent: JobRecord, by: str, topics: Topics, now: datetime, retried: int) -> Plan:
    requeued = _requeued(parent, by, parent.attempts + 1, now, None)
    note = f"queued again by {by}: {retried} failed " + ("child" if retried == 1 else "children")
    change = Change(requeued, replace(update_for(requeued), message=note))
    return Plan([change], [event_message(topics, requeued)])


def _requeued(
    record: JobRecord, by: str, attempt: int, now: datetime, run: uuid.UUID | None
) -> JobRequeued:
    previous = record.error_message or None
    numbering = EventNumbering.after(record, attempt, now)
    return numbering.make(
        JobRequeued,
        requested_by=by,
        previous_error=previous[:2000] if previous else None,
        request_id=run,
    )
