"""Use case: send a failed job back to the queue (owner or admin; an operator replaying a dead
letter). The job core plans it (`darkroom.jobs.plans.retry`): a failed job runs again and
reopens the batch or chain it ended; a failed batch or chain runs its failed children again."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from darkroom.contracts.envelope import utcnow
from darkroom.contracts.topics import Topics
from darkroom.jobs.plans.retry import plan_retry, plan_retry_in_family
from darkroom.jobs.records import JobRecord, Plan
from darkroom.runtime.db import JobStore


@dataclass(frozen=True)
class Retried:
    before: JobRecord  # the job as it was when the retry was decided
    runs: int  # how many jobs run again (0: nothing changed)


async def retry_job(
    store: JobStore, job_id: uuid.UUID, requested_by: str, topics: Topics
) -> Retried | None:
    """Apply the retry plan in one transaction; None if there is no such job."""
    job = await store.get_job(job_id)  # its type and parent never change
    if job is None:
        return None
    family_id = job.job_id if job.job_type.is_parent else job.parent_id
    seen: list[Retried] = []

    def decide(record: JobRecord) -> Plan:
        plan = plan_retry(record, requested_by, topics, utcnow())
        seen.append(Retried(record, _runs(plan)))
        return plan

    def decide_family(parent: JobRecord, children: list[JobRecord]) -> Plan:
        plan = plan_retry_in_family(parent, children, job_id, requested_by, topics, utcnow())
        target = next((r for r in (parent, *children) if r.job_id == job_id), job)
        seen.append(Retried(target, _runs(plan)))
        return plan

    if family_id is None:
        await store.change_job(job_id, decide)
    else:
        await store.change_family(family_id, decide_family)
    return seen[0] if seen else None


def _runs(plan: Plan) -> int:
    """Jobs that run again: each has a `job.requeued` announcing its new request."""
    return sum(1 for change in plan.changes if change.event.request_id is not None)
