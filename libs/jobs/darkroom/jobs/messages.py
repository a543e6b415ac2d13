"""The messages a plan publishes: an event on the events topic, a request on its job type's
topic, a control message to the workers. Each is keyed by its job, so a job's messages keep
their order."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel

from darkroom.contracts.envelope import TraceContext
from darkroom.contracts.events import JobEvent, encode_event
from darkroom.contracts.jobtypes import JobType, Priority
from darkroom.contracts.params import JobParams
from darkroom.contracts.requests import REQUEST_MODELS
from darkroom.contracts.topics import Topics
from darkroom.jobs.records import JobRecord, OutboxMessage


def event_headers(event: JobEvent) -> dict[str, str]:
    """Headers of an event message: content type, event type and id, trace context."""
    headers = {
        "content-type": "application/json",
        "event-type": event.type,
        "event-id": str(event.event_id),
    }
    if event.trace is not None:
        headers["traceparent"] = event.trace.traceparent
    return headers


def event_message(topics: Topics, event: JobEvent) -> OutboxMessage:
    """The event on the events topic, keyed by its job."""
    return OutboxMessage(
        topics.events, str(event.job_id), encode_event(event), event_headers(event)
    )


def control_message(topics: Topics, job_id: uuid.UUID, message: BaseModel) -> OutboxMessage:
    """A control message to the workers, keyed by its job."""
    kind = str(getattr(message, "type", type(message).__name__))
    return OutboxMessage(
        topics.control,
        str(job_id),
        message.model_dump_json().encode(),
        {"content-type": "application/json", "message-type": kind},
    )


def request_message(
    topics: Topics,
    job_type: JobType,
    priority: Priority,
    job_id: uuid.UUID,
    *,
    request_id: uuid.UUID,
    user_id: str,
    attempt: int,
    first_seq: int,
    requested_at: datetime,
    params: JobParams | dict[str, Any],
    series_start: int = 1,
    parent_id: uuid.UUID | None = None,
    trace: TraceContext | None = None,
) -> OutboxMessage:
    """A request of `job_type` as an outbox message, keyed by its job, on its priority's topic."""
    request = REQUEST_MODELS[job_type].model_validate(
        {
            "request_id": request_id,
            "job_id": job_id,
            "user_id": user_id,
            "attempt": attempt,
            "series_start": series_start,
            "first_seq": first_seq,
            "requested_at": requested_at,
            "params": params,
            "parent_id": parent_id,
            "trace": trace,
            "priority": priority,
        }
    )
    return OutboxMessage(
        topics.requested(job_type, priority),
        str(job_id),
        request.model_dump_json().encode(),
        {"content-type": "application/json", "request-id": str(request_id)},
    )


def rerun_message(
    record: JobRecord,
    topics: Topics,
    *,
    request_id: uuid.UUID,
    attempt: int,
    first_seq: int,
    series_start: int,
    now: datetime,
) -> OutboxMessage:
    """A new request for an existing job, numbered on from its last event."""
    return request_message(
        topics,
        JobType(record.type),
        Priority(record.priority),
        record.job_id,
        request_id=request_id,
        user_id=record.user_id,
        attempt=attempt,
        first_seq=first_seq,
        requested_at=now,
        params=record.params,
        series_start=series_start,
        parent_id=record.parent_id,
    )
