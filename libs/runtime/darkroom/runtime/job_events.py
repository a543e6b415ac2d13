"""Builds the events of one attempt of a job, numbering them from the request's first_seq."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from darkroom.contracts.assets import JobResult
from darkroom.contracts.envelope import make_event_id, utcnow
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


class AttemptEvents:
    """Event factory for one attempt: seq and event ids are deterministic, so re-running the same
    request after a crash emits the same ids for the same steps and consumers drop the repeats."""

    def __init__(self, request: JobRequested, job_type: JobType) -> None:
        self.request = request
        self.job_type = job_type
        self.next_seq = request.first_seq
        self.last_percent = 0
        self.last_message = ""

    def _envelope(self, event_type: str) -> dict[str, Any]:
        seq, self.next_seq = self.next_seq, self.next_seq + 1
        r = self.request
        return {
            "event_id": make_event_id(r.job_id, r.attempt, seq, event_type),
            "job_id": r.job_id,
            "user_id": r.user_id,
            "job_type": self.job_type,
            "occurred_at": utcnow(),
            "attempt": r.attempt,
            "seq": seq,
            "trace": r.trace,
            "parent_id": r.parent_id,
        }

    def started(self, worker_id: str) -> JobStarted:
        return JobStarted(**self._envelope("job.started"), worker_id=worker_id)

    def progress(self, percent: int, message: str) -> JobProgress:
        self.last_percent, self.last_message = percent, message
        return JobProgress(**self._envelope("job.progress"), percent=percent, message=message)

    def heartbeat(self) -> JobProgress:
        """The last progress again: the job is alive although no step ended for a while."""
        return self.progress(self.last_percent, self.last_message or "running")

    def completed(self, result: JobResult) -> JobCompleted:
        return JobCompleted(**self._envelope("job.completed"), result=result)

    def retrying(self, code: ErrorCode, message: str, next_attempt_at: datetime) -> JobRetrying:
        return JobRetrying(
            **self._envelope("job.retrying"),
            code=code,
            message=message[:2000],
            next_attempt=self.request.attempt + 1,
            next_attempt_at=next_attempt_at,
        )

    def cancelled(self, cancelled_by: str, while_running: bool) -> JobCancelled:
        return JobCancelled(
            **self._envelope("job.cancelled"),
            cancelled_by=cancelled_by,
            while_running=while_running,
        )

    def failed(self, code: ErrorCode, message: str, retryable: bool) -> JobFailed:
        return JobFailed(
            **self._envelope("job.failed"), code=code, message=message[:2000], retryable=retryable
        )
