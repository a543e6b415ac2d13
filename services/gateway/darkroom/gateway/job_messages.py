"""What the gateway writes about a job: a new job's first writes (its row, `job.queued`, and its
request), and for a job that exists (cancel, sweeper, retry, dead-letter replay, its parent's
reactions) its next event's envelope, the event as an outbox message, and a request that sends
it to a worker again, each numbered on from the job's row."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from darkroom.contracts.envelope import TraceContext, make_event_id
from darkroom.contracts.events import JobEvent, JobQueued, encode_event
from darkroom.contracts.jobtypes import JobType, Priority
from darkroom.contracts.params import JobParams
from darkroom.contracts.requests import REQUEST_MODELS
from darkroom.contracts.topics import Topics
from darkroom.runtime.db import JobRecord, NewJob, OutboxMessage
from darkroom.runtime.db.store import NewJobWrite
from darkroom.runtime.kafka import event_headers

QUEUED_SEQ = 1


def new_job_write(
    topics: Topics,
    *,
    job_id: uuid.UUID,
    user_id: str,
    job_type: JobType,
    params: JobParams,
    priority: Priority,
    now: datetime,
    parent_id: uuid.UUID | None = None,
    trace: TraceContext | None = None,
) -> NewJobWrite:
    """A new job's row, its `job.queued`, and (for a type a worker runs) its first request."""
    queued = JobQueued(
        event_id=make_event_id(job_id, 1, QUEUED_SEQ, "job.queued"),
        job_id=job_id,
        user_id=user_id,
        job_type=job_type,
        occurred_at=now,
        attempt=1,
        seq=QUEUED_SEQ,
        trace=trace,
        parent_id=parent_id,
        params=params,
    )
    messages = [event_message(topics, queued)]
    if not job_type.is_parent:
        messages.append(
            _request(
                topics,
                job_type,
                priority,
                job_id,
                request_id=uuid.uuid4(),
                user_id=user_id,
                attempt=1,
                first_seq=QUEUED_SEQ + 1,
                requested_at=now,
                params=params,
                parent_id=parent_id,
                trace=trace,
            )
        )
    job = NewJob(
        job_id=job_id,
        user_id=user_id,
        type=job_type.value,
        params=params.model_dump(mode="json"),
        created_at=now,
        last_seq=QUEUED_SEQ,
        priority=priority.value,
        parent_id=parent_id,
    )
    return job, [queued], messages


def next_envelope(
    record: JobRecord, event_type: str, attempt: int, seq: int, now: datetime
) -> dict[str, Any]:
    """The envelope fields of an event of `record`, with its deterministic id."""
    return {
        "event_id": make_event_id(record.job_id, attempt, seq, event_type),
        "job_id": record.job_id,
        "user_id": record.user_id,
        "job_type": JobType(record.type),
        "occurred_at": now,
        "attempt": attempt,
        "seq": seq,
        "parent_id": record.parent_id,
    }


def event_message(topics: Topics, event: JobEvent) -> OutboxMessage:
    """The event on the events topic, keyed by its job."""
    return OutboxMessage(
        topics.events, str(event.job_id), encode_event(event), event_headers(event)
    )


def request_message(
    record: JobRecord,
    topics: Topics,
    *,
    request_id: uuid.UUID,
    attempt: int,
    first_seq: int,
    series_start: int,
    now: datetime,
) -> OutboxMessage:
    """The job's request, on the topic of its type and priority, numbered on from its last event."""
    return _request(
        topics,
        JobType(record.type),
        Priority(record.priority),
        record.job_id,
        request_id=request_id,
        user_id=record.user_id,
        attempt=attempt,
        series_start=series_start,
        first_seq=first_seq,
        requested_at=now,
        params=record.params,
        parent_id=record.parent_id,
    )


def _request(
    topics: Topics, job_type: JobType, priority: Priority, job_id: uuid.UUID, **fields: Any
) -> OutboxMessage:
    """A request of `job_type` as an outbox message, keyed by its job, on its priority's topic."""
    request = REQUEST_MODELS[job_type].model_validate(
        {**fields, "job_id": job_id, "priority": priority}
    )
    return OutboxMessage(
        topics.requested(job_type, priority),
        str(job_id),
        request.model_dump_json().encode(),
        {"content-type": "application/json", "request-id": str(request.request_id)},
    )
