"""Request messages: what the gateway asks a worker to do."""

from __future__ import annotations

import uuid
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from darkroom.contracts.envelope import TraceContext
from darkroom.contracts.jobtypes import JobType, Priority
from darkroom.contracts.params import ImageParams, UpscaleParams, VariantsParams, VideoParams


class JobRequested(BaseModel):
    """What every job request carries, whatever the job type; keyed by job id."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    request_id: uuid.UUID = Field(description="Unique id of this request message.")
    job_id: uuid.UUID = Field(description="The job to run.")
    user_id: str = Field(min_length=1, max_length=200, description="Owner of the job.")
    attempt: int = Field(1, ge=1, description="Which attempt this request starts, from 1.")
    series_start: int = Field(
        1,
        ge=1,
        description="The first attempt of this series: a job sent back to the queue after it "
        "failed starts a new series, with the attempt budget anew.",
    )
    priority: Priority = Field(Priority.NORMAL, description="The job's priority (its topic).")
    parent_id: uuid.UUID | None = Field(
        None, description="The batch or chain the job belongs to, if any (its events carry it)."
    )
    first_seq: int = Field(
        ge=2, description="Sequence number of the first event this attempt emits (job.started)."
    )
    requested_at: AwareDatetime = Field(description="When the job was accepted.")
    not_before: AwareDatetime | None = Field(
        None, description="A retry's backoff: the attempt must not start before this time."
    )
    schema_version: int = Field(1, ge=1, description="Version of the request schema.")
    trace: TraceContext | None = Field(None, description="Trace context of the submit.")

    @property
    def provider(self) -> str:
        """The provider that runs the job (whose limits apply)."""
        return "local"


class ImageJobRequested(JobRequested):
    """A text-to-image job to run, on `jobs.image.requested`, keyed by job id."""

    type: Literal["job.image.requested"] = "job.image.requested"
    params: ImageParams = Field(description="What to generate.")

    @property
    def provider(self) -> str:
        return self.params.provider


class UpscaleJobRequested(JobRequested):
    """An upscale job to run, on `jobs.upscale.requested`, keyed by job id."""

    type: Literal["job.upscale.requested"] = "job.upscale.requested"
    params: UpscaleParams = Field(description="What to upscale, and how.")

    @property
    def provider(self) -> str:
        return self.params.provider


class VariantsJobRequested(JobRequested):
    """A variants job to run, on `jobs.variants.requested`, keyed by job id."""

    type: Literal["job.variants.requested"] = "job.variants.requested"
    params: VariantsParams = Field(description="The image and the set to make.")

    @property
    def provider(self) -> str:
        return self.params.provider


class VideoJobRequested(JobRequested):
    """A video job to run, on `jobs.video.requested`, keyed by job id."""

    type: Literal["job.video.requested"] = "job.video.requested"
    params: VideoParams = Field(description="What to render.")

    @property
    def provider(self) -> str:
        return self.params.provider


AnyJobRequested = ImageJobRequested | UpscaleJobRequested | VariantsJobRequested | VideoJobRequested

REQUEST_MODELS: dict[JobType, type[AnyJobRequested]] = {
    JobType.IMAGE: ImageJobRequested,
    JobType.UPSCALE: UpscaleJobRequested,
    JobType.VARIANTS: VariantsJobRequested,
    JobType.VIDEO: VideoJobRequested,
}
"""The request message of each job type a worker runs (parent types have none)."""
