"""Cancelling a job or a family.

- queued or retrying (no attempt runs): cancelled at once: `job.cancelled` with the status
  change, and a control message so workers skip the request if they reach it;
- running: a control message asks the worker to stop at its next step; it reports
  `job.cancelled` (or, if it finished first, the job keeps its outcome);
- ended: nothing changes.

A batch or chain is cancelled at once, with its waiting children; its running children stop at
their next step. Its children's later events no longer move it.
"""

from __future__ import annotations

from datetime import datetime

from darkroom.contracts.control import CancelRequested
from darkroom.contracts.events import JobCancelled
from darkroom.contracts.jobtypes import JobStatus
from darkroom.contracts.topics import Topics
from darkroom.jobs.messages import control_message, event_message
from darkroom.jobs.numbering import EventNumbering
from darkroom.jobs.records import Change, JobRecord, Plan
from darkroom.jobs.transitions import update_for

NOT_RUNNING = frozenset({JobStatus.QUEUED.value, JobStatus.RETRYING.value})


def plan_cancel(record: JobRecord, by: str, topics: Topics, now: datetime) -> Plan:
    """What cancelling `record` writes, decided from its current state."""
    if record.job_status.terminal:
        return Plan()
    waiting = record.status in NOT_RUNNING
    control = CancelRequested(
        job_id=record.job_id,
        user_id=record.user_id,
        requested_by=by,
        requested_at=now,
        recorded=waiting,
    )
    plan = Plan(messages=[control_message(topics, record.job_id, control)])
    if waiting:
        numbering = EventNumbering.after(record, max(1, record.attempts), now)
        cancelled = numbering.make(JobCancelled, cancelled_by=by, while_running=False)
        plan.changes.append(Change(cancelled, update_for(cancelled)))
        plan.messages.insert(0, event_message(topics, cancelled))
    return plan


def plan_cancel_family(
    parent: JobRecord, children: list[JobRecord], by: str, topics: Topics, now: datetime
) -> Plan:
    """Each child as above, then the parent itself (last, so that its stream, which ends with
    it, carries the children's cancellations first)."""
    if parent.job_status.terminal:
        return Plan()
    plan = Plan()
    for child in children:
        plan.extend(plan_cancel(child, by, topics, now))
    running = any(c.status not in NOT_RUNNING and not c.job_status.terminal for c in children)
    numbering = EventNumbering.after(parent, max(1, parent.attempts), now)
    cancelled = numbering.make(JobCancelled, cancelled_by=by, while_running=running)
    plan.changes.append(Change(cancelled, update_for(cancelled)))
    plan.messages.append(event_message(topics, cancelled))
    return plan
