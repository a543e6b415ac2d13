"""Typed records of the job core: a job as stored, a new job, a message to publish, and a plan
(what one decision writes). No I/O: the store runs the SQL a plan asks for."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any, Final

from darkroom.contracts.events import JobEvent
from darkroom.contracts.jobtypes import JobStatus, JobType
from darkroom.contracts.webhooks import WebhookSubscription


@dataclass(frozen=True)
class JobRecord:
    """A job as the job table holds it."""

    job_id: uuid.UUID
    user_id: str
    type: str
    status: str
    progress: int
    message: str | None
    attempts: int
    last_seq: int
    params: dict[str, Any]
    result: dict[str, Any] | None
    error: dict[str, Any] | None
    created_at: datetime
    updated_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    priority: str = "normal"
    series_start: int = 1  # first attempt of the current series (a retry starts one)
    parent_id: uuid.UUID | None = None  # the batch or chain it belongs to
    run_id: uuid.UUID | None = None  # the request whose run the job accepts reports of

    @property
    def job_status(self) -> JobStatus:
        return JobStatus(self.status)

    @property
    def job_type(self) -> JobType:
        return JobType(self.type)

    @property
    def error_code(self) -> str | None:
        return None if self.error is None else str(self.error.get("code", "unknown"))

    @property
    def error_message(self) -> str:
        return "" if self.error is None else str(self.error.get("message", ""))


@dataclass(frozen=True)
class NewJob:
    """A job to insert, as it starts: queued, numbered up to its first event."""

    job_id: uuid.UUID
    user_id: str
    type: str
    params: dict[str, Any]
    created_at: datetime
    last_seq: int  # seq of the newest event already reflected in the row
    priority: str = "normal"
    parent_id: uuid.UUID | None = None
    run_id: uuid.UUID | None = None
    webhook: WebhookSubscription | None = None  # where its events are POSTed, if anywhere


@dataclass(frozen=True)
class OutboxMessage:
    """A message to publish (through the outbox, in the transaction that decided it)."""

    topic: str
    key: str
    payload: bytes
    headers: dict[str, str]


class _Keep:
    """The value of a column an update leaves alone."""

    def __repr__(self) -> str:
        return "KEEP"


KEEP: Final = _Keep()


@dataclass(frozen=True)
class RowUpdate:
    """What an accepted event does to its job's row: every field it sets (KEEP: left alone)."""

    status: JobStatus | _Keep = KEEP
    progress: int | _Keep = KEEP
    message: str | _Keep | None = KEEP
    attempts: int | _Keep = KEEP
    started_at: datetime | _Keep = KEEP
    finished_at: datetime | _Keep | None = KEEP
    result: dict[str, Any] | _Keep | None = KEEP
    error: dict[str, Any] | _Keep | None = KEEP
    series_start: int | _Keep = KEEP
    run_id: uuid.UUID | _Keep = KEEP

    def columns(self) -> dict[str, Any]:
        """The columns it sets, with their stored values."""
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        columns = {name: value for name, value in values.items() if value is not KEEP}
        if "status" in columns:
            columns["status"] = JobStatus(columns["status"]).value
        if "run_id" in columns:
            columns["run_id"] = str(columns["run_id"])
        return columns


@dataclass(frozen=True)
class Change:
    """An event of a job and what it does to the job's row, if the job accepts it."""

    event: JobEvent
    update: RowUpdate


@dataclass(frozen=True)
class NewJobPlan:
    """A new job: its row, its first events and its messages."""

    job: NewJob
    events: tuple[JobEvent, ...]
    messages: tuple[OutboxMessage, ...]


@dataclass
class Plan:
    """What one decision writes, in one transaction: new jobs, then events applied to their
    jobs, then messages to publish. An empty plan writes nothing."""

    changes: list[Change] = field(default_factory=list)
    messages: list[OutboxMessage] = field(default_factory=list)
    new_jobs: list[NewJobPlan] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.changes or self.messages or self.new_jobs)

    def extend(self, other: Plan) -> Plan:
        self.changes.extend(other.changes)
        self.messages.extend(other.messages)
        self.new_jobs.extend(other.new_jobs)
        return self
