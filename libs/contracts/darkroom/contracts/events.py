"""Job events: one model per type, and the `JobEvent` discriminated union on `type`."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, TypeAdapter

from darkroom.contracts.assets import JobResult
from darkroom.contracts.envelope import Envelope
from darkroom.contracts.errors import ErrorCode
from darkroom.contracts.params import JobParams


class JobQueued(Envelope):
    """The gateway accepted the job; it waits for a worker."""

    type: Literal["job.queued"] = "job.queued"
    params: JobParams = Field(description="The resolved parameters of the job.")


class JobStarted(Envelope):
    """A worker began an attempt of the job."""

    type: Literal["job.started"] = "job.started"
    worker_id: str = Field(description="Id of the worker process running the attempt.")


class JobProgress(Envelope):
    """The job made progress."""

    type: Literal["job.progress"] = "job.progress"
    percent: int = Field(ge=0, le=100, description="Share of the work done, 0-100.")
    message: str = Field("", max_length=200, description="Short human-readable note.")


class JobCompleted(Envelope):
    """The job finished and its results are stored (terminal)."""

    type: Literal["job.completed"] = "job.completed"
    result: JobResult = Field(description="The stored outputs.")


class ChildFailure(BaseModel):
    """A child of a batch that did not complete."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    job_id: uuid.UUID = Field(description="The child job.")
    status: str = Field(description="How it ended: failed or cancelled.")
    code: ErrorCode | None = Field(None, description="Why it failed, for a failed child.")
    message: str = Field("", max_length=2000, description="Why, in words.")


class JobCompletedWithErrors(Envelope):
    """A batch ended with some children completed and some not (terminal). Its result holds the
    completed children's outputs; `failed_children` lists the others."""

    type: Literal["job.completed_with_errors"] = "job.completed_with_errors"
    result: JobResult = Field(description="The outputs of the children that completed.")
    failed_children: list[ChildFailure] = Field(
        min_length=1, description="The children that failed or were cancelled."
    )


class JobRetrying(Envelope):
    """An attempt failed with a retryable error; the next attempt is scheduled (not terminal)."""

    type: Literal["job.retrying"] = "job.retrying"
    code: ErrorCode = Field(description="Why the attempt failed.")
    message: str = Field(max_length=2000, description="Human-readable reason.")
    next_attempt: int = Field(ge=2, description="The attempt that will run next.")
    next_attempt_at: AwareDatetime = Field(description="When the next attempt may start.")
    next_request_id: uuid.UUID | None = Field(
        None, description="The request of the next attempt: the job's run from now on."
    )


class JobFailed(Envelope):
    """The job ended without a result (terminal)."""

    type: Literal["job.failed"] = "job.failed"
    code: ErrorCode = Field(description="Machine-readable reason.")
    message: str = Field(max_length=2000, description="Human-readable reason.")
    retryable: bool = Field(description="Whether trying again may succeed.")


class JobRequeued(Envelope):
    """A failed job was sent back to the queue (`POST /v1/jobs/{id}/retry`, or a dead letter
    replayed): a new series of attempts starts, with the job's attempt budget anew (not terminal).
    Its `attempt` is the first attempt of the new series."""

    type: Literal["job.requeued"] = "job.requeued"
    requested_by: str = Field(description="Who asked for it: a user, or `operator` for a replay.")
    previous_error: str | None = Field(
        None, max_length=2000, description="Why the job had failed, for the record."
    )


class JobCancelled(Envelope):
    """The job was cancelled: before it ran, or at a step boundary while it ran (terminal)."""

    type: Literal["job.cancelled"] = "job.cancelled"
    cancelled_by: str = Field(description="The user who asked for the cancel.")
    while_running: bool = Field(description="Whether an attempt was running and was stopped.")


JobEvent = Annotated[
    JobQueued
    | JobRequeued
    | JobStarted
    | JobProgress
    | JobRetrying
    | JobCompleted
    | JobCompletedWithErrors
    | JobFailed
    | JobCancelled,
    Field(discriminator="type"),
]
"""Any job event; dispatch with `match` and end with `assert_never`."""

TERMINAL_EVENT_TYPES = frozenset(
    {"job.completed", "job.completed_with_errors", "job.failed", "job.cancelled"}
)

job_event_adapter: TypeAdapter[JobEvent] = TypeAdapter(JobEvent)


def parse_event(data: bytes | str) -> JobEvent:
    """Validate one event from its JSON."""
    return job_event_adapter.validate_json(data)


def encode_event(event: JobEvent) -> bytes:
    """The JSON bytes of an event, as written to Kafka and to the event history."""
    return event.model_dump_json().encode()


def is_terminal(event: JobEvent) -> bool:
    """Whether the event ends its job."""
    return event.type in TERMINAL_EVENT_TYPES
