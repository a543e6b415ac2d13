"""Fields common to every job event, and how event ids are made."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from darkroom.contracts.jobtypes import JobType

SCHEMA_VERSION = 1


class TraceContext(BaseModel):
    """W3C trace context of the operation that caused the event."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    traceparent: str = Field(description="W3C `traceparent` header value.")
    tracestate: str | None = Field(None, description="W3C `tracestate` header value, if any.")


class Envelope(BaseModel):
    """Common fields of every job event. Fields are only ever added, never changed."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    event_id: uuid.UUID = Field(
        description="Unique id of the event; re-emitting the same step yields the same id, "
        "so consumers deduplicate by it."
    )
    job_id: uuid.UUID = Field(description="The job the event belongs to; also the Kafka key.")
    user_id: str = Field(min_length=1, max_length=200, description="Owner of the job.")
    job_type: JobType = Field(description="Kind of job.")
    occurred_at: AwareDatetime = Field(description="When the event happened (UTC).")
    schema_version: int = Field(SCHEMA_VERSION, ge=1, description="Version of the event schema.")
    attempt: int = Field(ge=1, description="Attempt of the job that emitted the event, from 1.")
    seq: int = Field(
        ge=1, description="Position of the event within its job: strictly increasing per job."
    )
    trace: TraceContext | None = Field(None, description="Trace context, for distributed tracing.")
    parent_id: uuid.UUID | None = Field(
        None,
        description="The batch or chain the job belongs to, if any: the parent's event stream "
        "carries the events of its children.",
    )
    request_id: uuid.UUID | None = Field(
        None,
        description="The run the event belongs to: for a worker's report, the request its "
        "attempt serves; for `job.queued` and `job.requeued`, the request they send to the "
        "workers. A job accepts reports of its current run only, so a superseded run (a "
        "request the sweeper replaced) never shows.",
    )


def make_event_id(
    job_id: uuid.UUID,
    attempt: int,
    seq: int,
    event_type: str,
    request_id: uuid.UUID | None = None,
) -> uuid.UUID:
    """The id of a job's event: the same step of the same run always gets the same id.

    A worker that processes a request twice (a redelivery after a crash) therefore emits events
    that consumers recognise as duplicates. A worker's report names its run (`request_id`), so
    two runs of one job (one superseded by the other) never share an id.
    """
    if request_id is not None:
        return uuid.uuid5(job_id, f"{request_id}/{seq}/{event_type}")
    return uuid.uuid5(job_id, f"{attempt}/{seq}/{event_type}")


def utcnow() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return datetime.now(UTC)
