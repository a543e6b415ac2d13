"""Use case: cancel a job (owner or admin). Plain functions; the store applies the plan atomically.

- queued or retrying (no attempt runs): the job is cancelled at once, here: `job.cancelled` is
  recorded with the status change and published through the outbox, and a control message tells
  the workers to skip the request if they reach it;
- running: a control message asks the worker that runs it to stop at its next step; the worker
  emits `job.cancelled` (or, if it finished first, the job keeps its outcome);
- completed, failed or cancelled: nothing changes, and the answer says why.

A batch or chain is cancelled at once, with its waiting children; its running children stop at
their next step as above. Its children's later events no longer move it.
"""

from __future__ import annotations

import uuid

from darkroom.contracts.api import CancelAnswer
from darkroom.contracts.control import CancelRequested
from darkroom.contracts.envelope import utcnow
from darkroom.contracts.events import JobCancelled
from darkroom.contracts.jobtypes import JobStatus, JobType
from darkroom.contracts.topics import Topics
from darkroom.gateway.job_messages import event_message, next_envelope
from darkroom.gateway.projector import job_changes
from darkroom.runtime.auth import Principal
from darkroom.runtime.db import JobRecord, JobStore, OutboxMessage
from darkroom.runtime.db.store import JobChange

NOT_RUNNING = {JobStatus.QUEUED.value, JobStatus.RETRYING.value}


def plan_cancel(record: JobRecord, user: Principal, topics: Topics) -> JobChange:
    """What cancelling `record` writes, decided from its current state."""
    if JobStatus(record.status).terminal:
        return [], []
    now, key = utcnow(), str(record.job_id)
    control = CancelRequested(
        job_id=record.job_id,
        user_id=record.user_id,
        requested_by=user.user_id,
        requested_at=now,
        recorded=record.status in NOT_RUNNING,
    )
    messages = [
        OutboxMessage(
            topics.control,
            key,
            control.model_dump_json().encode(),
            {"content-type": "application/json", "message-type": control.type},
        )
    ]
    if record.status not in NOT_RUNNING:
        return [], messages
    attempt, seq = max(1, record.attempts), record.last_seq + 1
    cancelled = JobCancelled(
        **next_envelope(record, "job.cancelled", attempt, seq, now),
        cancelled_by=user.user_id,
        while_running=False,
    )
    return [(cancelled, job_changes(cancelled))], [event_message(topics, cancelled), *messages]


def plan_cancel_family(
    parent: JobRecord, children: list[JobRecord], user: Principal, topics: Topics
) -> JobChange:
    """Cancelling a batch or chain: each child as above, then the parent itself (last, so that
    its stream, which ends with it, carries the children's cancellations first)."""
    if JobStatus(parent.status).terminal:
        return [], []
    changes, messages = [], []
    for child in children:
        child_changes, child_messages = plan_cancel(child, user, topics)
        changes.extend(child_changes)
        messages.extend(child_messages)
    running = any(
        c.status not in NOT_RUNNING and not JobStatus(c.status).terminal for c in children
    )
    cancelled = JobCancelled(
        **next_envelope(
            parent, "job.cancelled", max(1, parent.attempts), parent.last_seq + 1, utcnow()
        ),
        cancelled_by=user.user_id,
        while_running=running,
    )
    changes.append((cancelled, job_changes(cancelled)))
    messages.append(event_message(topics, cancelled))
    return changes, messages


def answer_family(job_id: uuid.UUID, parent: JobRecord, children: list[JobRecord]) -> CancelAnswer:
    """The answer for a batch or chain, from the family as it was when the cancel was decided."""
    if JobStatus(parent.status).terminal:
        return answer(job_id, parent)
    waiting = sum(c.status in NOT_RUNNING for c in children)
    running = sum(c.status == JobStatus.RUNNING.value for c in children)
    return CancelAnswer(
        job_id=job_id,
        status=JobStatus.CANCELLED,
        outcome="cancelled",
        detail=f"The {parent.type} was cancelled: {waiting} waiting children will not run, "
        f"{running} running children stop at their next step.",
    )


def answer(job_id: uuid.UUID, before: JobRecord) -> CancelAnswer:
    """The answer, from the job as it was when the cancel was decided."""
    status = JobStatus(before.status)
    if status is JobStatus.CANCELLED:
        return CancelAnswer(
            job_id=job_id,
            status=status,
            outcome="already_cancelled",
            detail="The job was already cancelled.",
        )
    if status.terminal:
        return CancelAnswer(
            job_id=job_id,
            status=status,
            outcome="already_finished",
            detail=f"The job had already ended ({status.value}); nothing was changed.",
        )
    if before.status in NOT_RUNNING:
        return CancelAnswer(
            job_id=job_id,
            status=JobStatus.CANCELLED,
            outcome="cancelled",
            detail="The job was cancelled before it ran; it will not run.",
        )
    return CancelAnswer(
        job_id=job_id,
        status=status,
        outcome="stopping",
        detail="The job is running; it stops at its next step and ends cancelled "
        "(or with its outcome, if it finishes first).",
    )


async def cancel_job(
    store: JobStore, job: JobRecord, user: Principal, topics: Topics
) -> CancelAnswer | None:
    """Apply the cancel plan to `job` (as read for the ownership check; the plan decides from it
    as it is inside the transaction); the answer, or None if it is gone."""
    if JobType(job.type).is_parent:  # a job's type never changes
        seen: list[list[JobRecord]] = []

        def plan(parent: JobRecord, children: list[JobRecord]) -> JobChange:
            seen.append(children)
            return plan_cancel_family(parent, children, user, topics)

        before = await store.change_family(job.job_id, plan)
        return answer_family(job.job_id, before, seen[0]) if before is not None else None
    before = await store.change_job(job.job_id, lambda r: plan_cancel(r, user, topics))
    return answer(job.job_id, before) if before is not None else None
