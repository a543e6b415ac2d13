"""A new job: its row, its `job.queued`, and (for a type a worker runs) its first request."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from darkroom.contracts.envelope import TraceContext
from darkroom.contracts.events import JobQueued
from darkroom.contracts.jobtypes import JobType, Priority
from darkroom.contracts.params import JobParams
from darkroom.contracts.topics import Topics
from darkroom.contracts.webhooks import WebhookSubscription
from darkroom.jobs.messages import event_message, request_message
from darkroom.jobs.numbering import EventNumbering, JobIdentity
from darkroom.jobs.records import NewJob, NewJobPlan

QUEUED_SEQ = 1


@dataclass(frozen=True)
class JobSpec:
    """What a submit decided: the job to create."""

    job_id: uuid.UUID
    user_id: str
    job_type: JobType
    params: JobParams
    priority: Priority
    parent_id: uuid.UUID | None = None
    trace: TraceContext | None = None
    webhook: WebhookSubscription | None = None


def new_job(spec: JobSpec, topics: Topics, now: datetime) -> NewJobPlan:
    """The job's row, its `job.queued` (seq 1) and its first request (seq 2 on)."""
    identity = JobIdentity(spec.job_id, spec.user_id, spec.job_type, spec.parent_id, spec.trace)
    run = None if spec.job_type.is_parent else uuid.uuid4()
    queued = EventNumbering(identity, 1, QUEUED_SEQ, clock=lambda: now).make(
        JobQueued, params=spec.params, request_id=run
    )
    messages = [event_message(topics, queued)]
    if run is not None:
        messages.append(
            request_message(
                topics,
                spec.job_type,
                spec.priority,
                spec.job_id,
                request_id=run,
                user_id=spec.user_id,
                attempt=1,
                first_seq=QUEUED_SEQ + 1,
                requested_at=now,
                params=spec.params,
                parent_id=spec.parent_id,
                trace=spec.trace,
            )
        )
    job = NewJob(
        job_id=spec.job_id,
        user_id=spec.user_id,
        type=spec.job_type.value,
        params=spec.params.model_dump(mode="json"),
        created_at=now,
        last_seq=QUEUED_SEQ,
        priority=spec.priority.value,
        parent_id=spec.parent_id,
        run_id=run,
        webhook=spec.webhook,
    )
    return NewJobPlan(job, (queued,), tuple(messages))
