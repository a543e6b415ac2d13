"""Use case: cancel a job (owner or admin). The job core plans it (`darkroom.jobs.plans.cancel`);
the store applies the plan atomically; the answer says what happened, in words."""

from __future__ import annotations

import uuid

from darkroom.contracts.api import CancelAnswer
from darkroom.contracts.envelope import utcnow
from darkroom.contracts.jobtypes import JobStatus, JobType
from darkroom.contracts.topics import Topics
from darkroom.jobs.plans.cancel import NOT_RUNNING, plan_cancel, plan_cancel_family
from darkroom.jobs.records import JobRecord, Plan
from darkroom.runtime.auth import Principal
from darkroom.runtime.db import JobStore


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
    by = user.user_id
    if JobType(job.type).is_parent:  # a job's type never changes
        seen: list[list[JobRecord]] = []

        def decide(parent: JobRecord, children: list[JobRecord]) -> Plan:
            seen.append(children)
            return plan_cancel_family(parent, children, by, topics, utcnow())

        before = await store.change_family(job.job_id, decide)
        return answer_family(job.job_id, before, seen[0]) if before is not None else None
    before = await store.change_job(job.job_id, lambda r: plan_cancel(r, by, topics, utcnow()))
    return answer(job.job_id, before) if before is not None else None
