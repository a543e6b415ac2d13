"""What the gateway writes about a job that exists (cancel, sweeper, retry, dead-letter replay):
its next event's envelope, the event as an outbox message, and a request that sends it to a
worker again, each numbered on from the job's row."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from darkroom.contracts.envelope import make_event_id
from darkroom.contracts.events import JobEvent, encode_event
from darkroom.contracts.jobtypes import JobType, Priority
from darkroom.contracts.params import ImageParams
from darkroom.contracts.requests import ImageJobRequested
from darkroom.contracts.topics import Topics
from darkroom.runtime.db import JobRecord, OutboxMessage
from darkroom.runtime.kafka import event_headers


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
    priority = Priority(record.priority)
    request = ImageJobRequested(
        request_id=request_id,
        job_id=record.job_id,
        user_id=record.user_id,
        attempt=attempt,
        series_start=series_start,
        first_seq=first_seq,
        requested_at=now,
        params=ImageParams.model_validate(record.params),
        priority=priority,
    )
    return OutboxMessage(
        topics.requested(JobType(record.type), priority),
        str(record.job_id),
        request.model_dump_json().encode(),
        {"content-type": "application/json", "request-id": str(request_id)},
    )
