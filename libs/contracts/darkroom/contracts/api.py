"""HTTP bodies of the gateway's API: the answers here, the submissions in `submissions.py`."""

from __future__ import annotations

import uuid
from typing import Literal

from pydantic import AwareDatetime, BaseModel, Field

from darkroom.contracts.assets import AssetDescriptor
from darkroom.contracts.errors import ErrorCode
from darkroom.contracts.events import JobEvent
from darkroom.contracts.jobtypes import JobStatus, JobType, Priority
from darkroom.contracts.params import ImageParams, JobParams
from darkroom.contracts.submissions import (
    CreateBatchJob,
    CreateImageJob,
    CreateUpscaleJob,
    CreateVideoJob,
    ImageOptions,
    ImageRef,
    resolve_size,
)

__all__ = [
    "AssetView",
    "CancelAnswer",
    "ChildView",
    "CreateBatchJob",
    "CreateImageJob",
    "CreateUpscaleJob",
    "CreateVideoJob",
    "ImageOptions",
    "ImageParams",
    "ImageRef",
    "JobAccepted",
    "JobError",
    "JobEventList",
    "JobPage",
    "JobView",
    "StreamToken",
    "UploadView",
    "resolve_size",
]


class JobAccepted(BaseModel):
    """Answer of a job submission (`202 Accepted`)."""

    job_id: uuid.UUID = Field(description="Id of the new job.")
    type: JobType = Field(JobType.IMAGE, description="Its type: a `then` makes it a chain.")
    status: JobStatus = Field(description="Always `queued` at submission.")
    status_url: str = Field(description="Absolute URL of the job's status.")
    events_url: str = Field(description="Absolute URL of the job's live event stream (SSE).")
    created_at: AwareDatetime = Field(description="When the job was accepted.")
    children: list[uuid.UUID] = Field(
        default_factory=list, description="A batch's child jobs, in prompt order."
    )


class AssetView(AssetDescriptor):
    """A stored output with a URL to download it."""

    asset_id: str = Field(description="Pass as an input image of another job.")
    url: str = Field(description="Signed download URL; it expires.")
    url_expires_at: AwareDatetime = Field(description="When `url` stops working.")


class JobError(BaseModel):
    """Why a job failed."""

    code: ErrorCode = Field(description="Machine-readable reason.")
    message: str = Field(description="Human-readable reason.")
    retryable: bool = Field(description="Whether trying again may succeed.")


class ChildView(BaseModel):
    """A child job of a batch or chain, in brief."""

    job_id: uuid.UUID = Field(description="Id of the child job.")
    type: JobType = Field(description="Kind of job.")
    status: JobStatus = Field(description="Where it stands.")
    progress: int = Field(ge=0, le=100, description="Percent done.")
    error: JobError | None = Field(None, description="Why it failed, for a failed child.")


class JobView(BaseModel):
    """A job as its owner sees it."""

    job_id: uuid.UUID = Field(description="Id of the job.")
    type: JobType = Field(description="Kind of job.")
    status: JobStatus = Field(
        description="queued, running, retrying, then one of completed, failed or cancelled."
    )
    progress: int = Field(ge=0, le=100, description="Percent done.")
    message: str | None = Field(None, description="Latest progress note.")
    attempts: int = Field(ge=0, description="Attempts started so far, over every retry series.")
    priority: Priority = Field(Priority.NORMAL, description="The job's priority.")
    params: JobParams = Field(description="The resolved parameters (their `kind` is the type).")
    parent_id: uuid.UUID | None = Field(None, description="The batch or chain it belongs to.")
    children: list[ChildView] | None = Field(
        None,
        description="A batch's or chain's child jobs, in order (null in lists: GET the job).",
    )
    created_at: AwareDatetime = Field(description="When the job was accepted.")
    updated_at: AwareDatetime = Field(description="When the job last changed.")
    started_at: AwareDatetime | None = Field(None, description="When work first started.")
    finished_at: AwareDatetime | None = Field(None, description="When the job ended.")
    error: JobError | None = Field(None, description="Why it failed, for failed jobs.")
    assets: list[AssetView] = Field(default_factory=list, description="Outputs of a completed job.")


class JobPage(BaseModel):
    """One page of the caller's jobs, newest first."""

    items: list[JobView] = Field(description="The jobs of this page.")
    next_cursor: str | None = Field(
        None, description="Pass as `cursor` for the next page; null at the end."
    )


class JobEventList(BaseModel):
    """A job's event history, in order."""

    job_id: uuid.UUID = Field(description="Id of the job.")
    events: list[JobEvent] = Field(description="Every recorded event, by increasing `seq`.")


class StreamToken(BaseModel):
    """A short-lived token that only opens event streams (for EventSource, which cannot send headers)."""

    token: str = Field(description="Pass as `?access_token=` to the notifier.")
    expires_at: AwareDatetime = Field(description="When the token stops working.")


class CancelAnswer(BaseModel):
    """The answer to `DELETE /v1/jobs/{id}`."""

    job_id: uuid.UUID
    status: JobStatus = Field(description="The job's status after this request.")
    outcome: Literal["cancelled", "stopping", "already_cancelled", "already_finished"] = Field(
        description="cancelled: it had not started and never will; stopping: it runs and stops at "
        "its next step; already_cancelled / already_finished: nothing changed."
    )
    detail: str = Field(description="The outcome in words.")


class UploadView(BaseModel):
    """An uploaded image (`POST /v1/uploads`): use `asset_id` as an input of other jobs."""

    asset_id: str = Field(description="Id to pass as an input image.")
    content_type: str = Field(description="image/png, image/jpeg or image/webp.")
    width: int = Field(ge=1, description="Width in pixels.")
    height: int = Field(ge=1, description="Height in pixels.")
    bytes: int = Field(ge=1, description="Size of the file.")
    sha256: str = Field(description="SHA-256 of the file, hex.")
    created_at: AwareDatetime = Field(description="When it was uploaded.")
    url: str = Field(description="Signed download URL; it expires.")
    url_expires_at: AwareDatetime = Field(description="When `url` stops working.")
