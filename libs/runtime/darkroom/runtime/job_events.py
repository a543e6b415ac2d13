"""The events of one run of a job, numbered by the job core from the request's first_seq."""

from __future__ import annotations

import time
import uuid
from datetime import datetime

from darkroom.contracts.assets import JobResult
from darkroom.contracts.errors import ErrorCode
from darkroom.contracts.events import (
    JobCancelled,
    JobCompleted,
    JobFailed,
    JobProgress,
    JobRetrying,
    JobStarted,
)
from darkroom.contracts.jobtypes import JobType
from darkroom.contracts.requests import JobRequested
from darkroom.jobs.numbering import E, EventNumbering


def next_request_id(request: JobRequested) -> uuid.UUID:
    """The id of the request of the attempt after `request`'s (deterministic: a crash that
    repeats the retry sends the same request)."""
    return uuid.uuid5(request.job_id, f"request/{request.attempt + 1}")


class AttemptEvents:
    """Event factory for one run: seq and event ids are deterministic, so re-running the same
    request after a crash emits the same ids for the same steps and consumers drop the repeats."""

    def __init__(self, request: JobRequested, job_type: JobType) -> None:
        self.request = request
        self.job_type = job_type
        self.numbering = EventNumbering.for_run(request, job_type)
        self.last_percent = 0
        self.last_message = ""
        self.last_made = time.monotonic()  # when the newest event was made

    @property
    def next_seq(self) -> int:
        return self.numbering.next_seq

    def _make(self, kind: type[E], **fields: object) -> E:
        self.last_made = time.monotonic()
        return self.numbering.make(kind, **fields)

    def started(self, worker_id: str) -> JobStarted:
        return self._make(JobStarted, worker_id=worker_id)

    def progress(self, percent: int, message: str) -> JobProgress:
        self.last_percent, self.last_message = percent, message
        return self._make(JobProgress, percent=percent, message=message)

    def heartbeat(self) -> JobProgress:
        """The last progress again: the job is alive although no step ended for a while."""
        return self.progress(self.last_percent, self.last_message or "running")

    def completed(self, result: JobResult) -> JobCompleted:
        return self._make(JobCompleted, result=result)

    def retrying(self, code: ErrorCode, message: str, next_attempt_at: datetime) -> JobRetrying:
        return self._make(
            JobRetrying,
            code=code,
            message=message[:2000],
            next_attempt=self.request.attempt + 1,
            next_attempt_at=next_attempt_at,
            next_request_id=next_request_id(self.request),
        )

    def cancelled(self, cancelled_by: str, while_running: bool) -> JobCancelled:
        return self._make(JobCancelled, cancelled_by=cancelled_by, while_running=while_running)

    def failed(self, code: ErrorCode, message: str, retryable: bool) -> JobFailed:
        return self._make(JobFailed, code=code, message=message[:2000], retryable=retryable)
