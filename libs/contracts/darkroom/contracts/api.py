"""HTTP bodies of the gateway's API."""

from __future__ import annotations

import uuid
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from darkroom.contracts.assets import AssetDescriptor
from darkroom.contracts.catalog import ASPECT_SIZES, DEFAULT_PROVIDER, PROVIDER_MODELS, AspectRatio
from darkroom.contracts.errors import ErrorCode
from darkroom.contracts.events import JobEvent
from darkroom.contracts.jobtypes import JobStatus, JobType, Priority
from darkroom.contracts.params import MAX_SEED, ImageParams


class CreateImageJob(BaseModel):
    """Body of `POST /v1/jobs/image`: give `aspect_ratio`, or `width` and `height`, or neither (1:1)."""

    model_config = ConfigDict(extra="forbid")

    prompt: str = Field(min_length=1, max_length=2000, description="What to draw.")
    negative_prompt: str | None = Field(None, max_length=2000, description="What to avoid.")
    num_images: int = Field(1, ge=1, le=4, description="How many images, 1-4.")
    aspect_ratio: AspectRatio | None = Field(None, description="Shape of the image (about 1 MP).")
    width: int | None = Field(
        None, ge=64, le=2048, multiple_of=8, description="Pixels, 64-2048, multiple of 8."
    )
    height: int | None = Field(
        None,
        ge=64,
        le=2048,
        multiple_of=8,
        validate_default=True,
        description="Pixels, 64-2048, multiple of 8; with width.",
    )
    seed: int | None = Field(None, ge=0, le=MAX_SEED, description="Random seed; chosen if omitted.")
    provider: str = Field(DEFAULT_PROVIDER, description="Generation provider.")
    model: str | None = Field(
        None, max_length=100, validate_default=True, description="Model; the provider's default."
    )
    priority: Priority = Field(
        Priority.NORMAL,
        description="With a backlog, high jobs start before normal ones, normal before low; "
        "lower ones still get a share of the starts (no starvation).",
    )

    # Each check is a field validator, so a 422 names the field it is about in `loc`.
    @field_validator("prompt")
    @classmethod
    def _prompt_not_blank(cls, prompt: str) -> str:
        if not prompt.strip():
            raise ValueError("prompt must not be blank")
        return prompt

    @field_validator("width")
    @classmethod
    def _not_both_shapes(cls, width: int | None, info: ValidationInfo) -> int | None:
        if width is not None and info.data.get("aspect_ratio") is not None:
            raise ValueError("give either aspect_ratio or width and height, not both")
        return width

    @field_validator("height")
    @classmethod
    def _width_and_height_together(cls, height: int | None, info: ValidationInfo) -> int | None:
        if "width" in info.data and (info.data["width"] is None) != (height is None):
            raise ValueError("width and height go together: give both or neither")
        return height

    @field_validator("provider")
    @classmethod
    def _known_provider(cls, provider: str) -> str:
        if provider not in PROVIDER_MODELS:
            raise ValueError(f"unknown provider {provider!r}; known: {sorted(PROVIDER_MODELS)}")
        return provider

    @field_validator("model")
    @classmethod
    def _known_model(cls, model: str | None, info: ValidationInfo) -> str | None:
        provider = info.data.get("provider")
        if (
            model is not None
            and provider in PROVIDER_MODELS
            and model not in PROVIDER_MODELS[provider]
        ):
            known = list(PROVIDER_MODELS[provider])
            raise ValueError(f"unknown model {model!r} for provider {provider!r}; known: {known}")
        return model


class JobAccepted(BaseModel):
    """Answer of a job submission (`202 Accepted`)."""

    job_id: uuid.UUID = Field(description="Id of the new job.")
    status: JobStatus = Field(description="Always `queued` at submission.")
    status_url: str = Field(description="Absolute URL of the job's status.")
    events_url: str = Field(description="Absolute URL of the job's live event stream (SSE).")
    created_at: AwareDatetime = Field(description="When the job was accepted.")


class AssetView(AssetDescriptor):
    """A stored output with a URL to download it."""

    url: str = Field(description="Signed download URL; it expires.")
    url_expires_at: AwareDatetime = Field(description="When `url` stops working.")


class JobError(BaseModel):
    """Why a job failed."""

    code: ErrorCode = Field(description="Machine-readable reason.")
    message: str = Field(description="Human-readable reason.")
    retryable: bool = Field(description="Whether trying again may succeed.")


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
    params: ImageParams = Field(description="The resolved parameters.")
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


def resolve_size(body: CreateImageJob) -> tuple[int, int]:
    """The pixel size a submission asks for."""
    if body.width is not None and body.height is not None:
        return body.width, body.height
    return ASPECT_SIZES[body.aspect_ratio or "1:1"]


__all__ = ["CreateImageJob", "ImageParams", "JobAccepted", "JobPage", "JobView", "resolve_size"]


class CancelAnswer(BaseModel):
    """The answer to `DELETE /v1/jobs/{id}`."""

    job_id: uuid.UUID
    status: JobStatus = Field(description="The job's status after this request.")
    outcome: Literal["cancelled", "stopping", "already_cancelled", "already_finished"] = Field(
        description="cancelled: it had not started and never will; stopping: it runs and stops at "
        "its next step; already_cancelled / already_finished: nothing changed."
    )
    detail: str = Field(description="The outcome in words.")
