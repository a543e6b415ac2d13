"""The one place a job's events are numbered and their ids made.

Every writer numbers on from where the job stands: the gateway from the job's row (its last
`seq`), a worker from its request (`first_seq`, given by the writer that sent the request). Ids
are deterministic, so a step written twice (a redelivered request, a retried transaction) is
recognised as a duplicate; a worker's reports carry their run (`request_id`), so two runs never
share an id.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from darkroom.contracts.envelope import TraceContext, make_event_id, utcnow
from darkroom.contracts.events import (
    JobCancelled,
    JobCompleted,
    JobCompletedWithErrors,
    JobFailed,
    JobProgress,
    JobQueued,
    JobRequeued,
    JobRetrying,
    JobStarted,
)
from darkroom.contracts.jobtypes import JobType
from darkroom.contracts.requests import JobRequested
from darkroom.jobs.records import JobRecord

E = TypeVar(
    "E",
    JobQueued,
    JobRequeued,
    JobStarted,
    JobProgress,
    JobRetrying,
    JobCompleted,
    JobCompletedWithErrors,
    JobFailed,
    JobCancelled,
)


@dataclass(frozen=True)
class JobIdentity:
    """What every event of a job repeats about it."""

    job_id: uuid.UUID
    user_id: str
    job_type: JobType
    parent_id: uuid.UUID | None = None
    trace: TraceContext | None = None

    @classmethod
    def of_record(cls, record: JobRecord) -> JobIdentity:
        return cls(record.job_id, record.user_id, JobType(record.type), record.parent_id)

    @classmethod
    def of_request(cls, request: JobRequested, job_type: JobType) -> JobIdentity:
        return cls(request.job_id, request.user_id, job_type, request.parent_id, request.trace)


class EventNumbering:
    """Makes a job's next events: each gets the next `seq` and its deterministic id.

    `run` is the request a worker's run serves: its reports carry it, and their ids derive from
    it. The gateway's numbering has none (its events announce a run in `request_id` instead).
    """

    def __init__(
        self,
        identity: JobIdentity,
        attempt: int,
        next_seq: int,
        run: uuid.UUID | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.identity, self.attempt, self.next_seq = identity, attempt, next_seq
        self.run, self.clock = run, clock

    @classmethod
    def after(cls, record: JobRecord, attempt: int, now: datetime) -> EventNumbering:
        """The gateway's numbering for `record`: on from its last recorded event."""
        return cls(JobIdentity.of_record(record), attempt, record.last_seq + 1, clock=lambda: now)

    @classmethod
    def for_run(cls, request: JobRequested, job_type: JobType) -> EventNumbering:
        """A worker's numbering for one run: from the request's `first_seq`, ids tied to it."""
        identity = JobIdentity.of_request(request, job_type)
        return cls(identity, request.attempt, request.first_seq, request.request_id)

    def make(self, kind: type[E], **fields: Any) -> E:
        """The next event of type `kind` (its own fields given), numbered and identified."""
        envelope = self.envelope(str(kind.model_fields["type"].default))
        return kind(**{**envelope, **fields})

    def envelope(self, event_type: str) -> dict[str, Any]:
        seq, self.next_seq = self.next_seq, self.next_seq + 1
        ident = self.identity
        return {
            "event_id": make_event_id(ident.job_id, self.attempt, seq, event_type, self.run),
            "job_id": ident.job_id,
            "user_id": ident.user_id,
            "job_type": ident.job_type,
            "occurred_at": self.clock(),
            "attempt": self.attempt,
            "seq": seq,
            "trace": ident.trace,
            "parent_id": ident.parent_id,
            "request_id": self.run,
        }
