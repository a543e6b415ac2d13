"""Records to rows and back: the only place that knows how the job core's records are stored."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from darkroom.contracts.events import JobEvent, encode_event
from darkroom.jobs.records import JobRecord, NewJob, OutboxMessage


def record_from_row(row: Any) -> JobRecord:
    values = dict(row._mapping)
    values["job_id"] = uuid.UUID(values["job_id"])
    for name in ("parent_id", "run_id"):
        if values.get(name) is not None:
            values[name] = uuid.UUID(values[name])
    return JobRecord(**values)


def subscription_row(job: NewJob) -> dict[str, Any]:
    """The webhook subscription of a new job that has one."""
    assert job.webhook is not None
    return {
        "job_id": str(job.job_id),
        "user_id": job.user_id,
        "url": job.webhook.url,
        "events": list(job.webhook.events),
        "created_at": job.created_at,
    }


def new_job_row(job: NewJob) -> dict[str, Any]:
    return {
        "job_id": str(job.job_id),
        "user_id": job.user_id,
        "type": job.type,
        "status": "queued",
        "progress": 0,
        "message": None,
        "attempts": 0,
        "last_seq": job.last_seq,
        "priority": job.priority,
        "series_start": 1,
        "parent_id": str(job.parent_id) if job.parent_id else None,
        "run_id": str(job.run_id) if job.run_id else None,
        "params": job.params,
        "result": None,
        "error": None,
        "created_at": job.created_at,
        "updated_at": job.created_at,
    }


def event_row(event: JobEvent, accepted: bool = True) -> dict[str, Any]:
    return {
        "event_id": str(event.event_id),
        "job_id": str(event.job_id),
        "seq": event.seq,
        "type": event.type,
        "occurred_at": event.occurred_at,
        "payload": encode_event(event).decode(),
        "accepted": accepted,
    }


def outbox_row(message: OutboxMessage, now: datetime) -> dict[str, Any]:
    return {
        "topic": message.topic,
        "key": message.key,
        "payload": message.payload,
        "headers": message.headers,
        "created_at": now,
    }
