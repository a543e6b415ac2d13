"""The request message that sends an existing job to a worker again (sweeper, retry, replay)."""

from __future__ import annotations

import uuid
from datetime import datetime

from darkroom.contracts.jobtypes import JobType, Priority
from darkroom.contracts.params import ImageParams
from darkroom.contracts.requests import ImageJobRequested
from darkroom.contracts.topics import Topics
from darkroom.runtime.db import JobRecord, OutboxMessage


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
