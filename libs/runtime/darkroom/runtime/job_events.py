"""Builds the events of one attempt of a job, numbering them from the request's first_seq."""

from __future__ import annotations

from typing import Any

from darkroom.contracts.assets import JobResult
from darkroom.contracts.envelope import make_event_id, utcnow
from darkroom.contracts.errors import ErrorCode
from darkroom.contracts.events import JobCompleted, JobFailed, JobProgress, JobStarted
from darkroom.contracts.jobtypes import JobType
from darkroom.contracts.requests import ImageJobRequested


class AttemptEvents:
    """Event factory for one attempt: seq and event ids are deterministic, so re-running the same
    request after a crash emits the same ids for the same steps and consumers drop the repeats."""

    def __init__(self, request: ImageJobRequested, job_type: JobType) -> None:
        self.request = request
        self.job_type = job_type
        self.next_seq = request.first_seq

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
        }

    def started(self, worker_id: str) -> JobStarted:
        return JobStarted(**self._envelope("job.started"), worker_id=worker_id)

    def progress(self, percent: int, message: str) -> JobProgress:
        return JobProgress(**self._envelope("job.progress"), percent=percent, message=message)

    def completed(self, result: JobResult) -> JobCompleted:
        return JobCompleted(**self._envelope("job.completed"), result=result)

    def failed(self, code: ErrorCode, message: str, retryable: bool) -> JobFailed:
        return JobFailed(
            **self._envelope("job.failed"), code=code, message=message[:2000], retryable=retryable
        )
