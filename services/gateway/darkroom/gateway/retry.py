"""Use case: send a failed job back to the queue, as the same job (owner or admin; an operator
replaying a dead letter).

In one transaction with the job's row: `job.requeued` (the job shows `queued` again, its error
cleared) and a new request through the outbox. The new series of attempts numbers on from the
job's last attempt and last event, so no event id or request id of the earlier series is reused,
and it has the attempt budget anew (`series_start`). Only a failed job can be retried: a
completed one has its result, a cancelled one was stopped on purpose, and a job that has not
ended is still being worked on.
"""

from __future__ import annotations

import uuid

from darkroom.contracts.envelope import utcnow
from darkroom.contracts.events import JobRequeued
from darkroom.contracts.jobtypes import JobStatus, JobType
from darkroom.contracts.topics import Topics
from darkroom.gateway.job_messages import event_message, next_envelope, request_message
from darkroom.gateway.projector import job_changes
from darkroom.runtime.db import JobRecord, JobStore
from darkroom.runtime.db.store import JobChange


def plan_retry(record: JobRecord, requested_by: str, topics: Topics) -> JobChange:
    """What retrying `record` writes: nothing unless it is failed."""
    if record.status != JobStatus.FAILED.value or JobType(record.type).is_parent:
        return [], []
    now, attempt, seq = utcnow(), record.attempts + 1, record.last_seq + 1
    previous = (record.error or {}).get("message")
    requeued = JobRequeued(
        **next_envelope(record, "job.requeued", attempt, seq, now),
        requested_by=requested_by,
        previous_error=str(previous)[:2000] if previous else None,
    )
    request = request_message(
        record,
        topics,
        request_id=uuid.uuid5(record.job_id, f"retry/{seq}"),
        attempt=attempt,
        first_seq=seq + 1,
        series_start=attempt,
        now=now,
    )
    return [(requeued, job_changes(requeued))], [event_message(topics, requeued), request]


async def retry_job(
    store: JobStore, job_id: uuid.UUID, requested_by: str, topics: Topics
) -> JobRecord | None:
    """Apply the retry plan; returns the job as it was (None if there is no such job)."""
    return await store.change_job(job_id, lambda record: plan_retry(record, requested_by, topics))
