"""HTTP bodies of job submissions (`POST /v1/jobs/...`), each field checked where it is declared.

`darkroom.contracts.api` re-exports them beside the answers, so callers import every HTTP body
from one place.
"""

from __future__ import annotations

from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from darkroom.contracts.assets import ASSET_ID_PATTERN
from darkroom.contracts.catalog import (
    ASPECT_SIZES,
    DEFAULT_PROVIDER,
    AspectRatio,
    VideoResolution,
)
from darkroom.contracts.jobtypes import Priority
from darkroom.contracts.params import MAX_SEED, ChainStep, ProviderChoice
from darkroom.contracts.webhooks import (
    DEFAULT_WEBHOOK_EVENTS,
    WebhookEventType,
    WebhookSubscription,
)

# Every body: a misspelt field is a 422 naming it, and NaN or Infinity is never a number (Python's
# json reads them, and no JSON answer can carry them back).
REQUEST_BODY = ConfigDict(extra="forbid", allow_inf_nan=False)


class WebhookOptions(BaseModel):
    """Where to POST the job's events when they happen (Standard Webhooks, signed with the
    caller's secret from `GET /v1/webhooks/secret`)."""

    model_config = REQUEST_BODY

    webhook_url: str | None = Field(
        None,
        max_length=2048,
        json_schema_extra={"format": "uri"},
        description="An http(s) URL on a public address (checked at submit and at each "
        "delivery); its events are POSTed there, retried for a day until it answers 2xx.",
    )
    webhook_events: list[WebhookEventType] = Field(
        default_factory=lambda: list(DEFAULT_WEBHOOK_EVENTS),
        min_length=1,
        max_length=9,
        description="The event types sent; the terminal ones by default. `job.progress` is "
        "sent at most once a second.",
    )

    @field_validator("webhook_url")
    @classmethod
    def _webhook_url(cls, url: str | None) -> str | None:
        if url is not None and (problem := _url_problem(url)):
            raise ValueError(problem)
        return url

    def webhook(self) -> WebhookSubscription | None:
        """The subscription the job is stored with, if it asked for one."""
        if self.webhook_url is None:
            return None
        events = tuple(dict.fromkeys(self.webhook_events))
        return WebhookSubscription(url=self.webhook_url, events=events)


class ImageOptions(BaseModel):
    """Text-to-image options shared by an image job and every child of a batch: give
    `aspect_ratio`, or `width` and `height`, or neither (1:1)."""

    model_config = REQUEST_BODY

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
    provider: str = Field(
        DEFAULT_PROVIDER,
        max_length=100,
        description="Generation provider: one of GET /v1/models (a 422 names it otherwise).",
    )
    model: str | None = Field(
        None, max_length=100, description="Model of the provider; its default for image jobs."
    )
    priority: Priority = Field(
        Priority.NORMAL,
        description="With a backlog, high jobs start before normal ones, normal before low; "
        "lower ones still get a share of the starts (no starvation).",
    )

    # Each check is a field validator, so a 422 names the field it is about in `loc`.
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


def _not_blank(prompt: str) -> str:
    if not prompt.strip():
        raise ValueError("prompt must not be blank")
    return prompt


def _valid_steps(steps: list[ChainStep]) -> list[ChainStep]:
    for index, step in enumerate(steps[:-1]):
        if step.type == "variants":
            raise ValueError(
                f"step {index + 1} is variants, which ends a chain (it makes six files, not one "
                "image to pass on): put it last"
            )
    return steps


class CreateImageJob(ImageOptions, WebhookOptions):
    """Body of `POST /v1/jobs/image`. With `then`, the answer is a chain job: the image job, then
    each step as a job of its own, started when the step before it completes."""

    prompt: str = Field(min_length=1, max_length=2000, description="What to draw.")
    then: list[ChainStep] = Field(
        default_factory=list,
        max_length=5,
        description='Follow-up steps, e.g. [{"type": "upscale", "scale": 2}, {"type": "variants"}].',
    )

    _prompt_not_blank = field_validator("prompt")(_not_blank)

    @field_validator("then")
    @classmethod
    def _steps(cls, steps: list[ChainStep], info: ValidationInfo) -> list[ChainStep]:
        if steps and info.data.get("num_images", 1) != 1:
            raise ValueError(
                "a chain passes one image from step to step: use num_images 1 (or a batch)"
            )
        return _valid_steps(steps)


class CreateBatchJob(ImageOptions, WebhookOptions):
    """Body of `POST /v1/jobs/batch`: one image job per prompt, with the shared options. With a
    `seed`, child i uses seed + i."""

    prompts: list[Annotated[str, Field(max_length=2000)]] = Field(
        min_length=1, max_length=50, description="1-50 prompts: one child image job each."
    )

    @field_validator("prompts")
    @classmethod
    def _prompts(cls, prompts: list[str]) -> list[str]:
        for index, prompt in enumerate(prompts):
            if not prompt.strip():
                raise ValueError(f"prompt {index} is blank")
        return prompts


class ImageRef(BaseModel):
    """An input image: an asset id of the caller (an upload, or an output of a completed job), or
    an http(s) URL the worker fetches (public addresses only)."""

    model_config = REQUEST_BODY

    asset_id: str | None = Field(
        None,
        pattern=ASSET_ID_PATTERN,
        description="An upload's asset id, or `<job id>/<index>` of a completed job's output.",
    )
    url: str | None = Field(
        None,
        max_length=2048,
        validate_default=True,
        json_schema_extra={"format": "uri"},
        description="An http or https URL with a host. One with a user name or password "
        "(`user:password@`) is refused: the URL is stored and shown with the job.",
    )

    @field_validator("url")
    @classmethod
    def _one_source(cls, url: str | None, info: ValidationInfo) -> str | None:
        if (url is None) == (info.data.get("asset_id") is None) and "asset_id" in info.data:
            raise ValueError("give exactly one of asset_id and url")
        if url is not None and (problem := _url_problem(url)):
            raise ValueError(problem)
        return url


def _url_problem(url: str) -> str | None:
    """Why `url` is refused at submit (a worker could never fetch it, or it holds a secret)."""
    if not url.lower().startswith(("http://", "https://")):
        return "only http and https URLs are allowed"
    if any(c <= " " or c == "\x7f" for c in url):
        return "not a valid URL: it holds a space or a control character"
    try:
        parts = urlsplit(url)
        _ = parts.port  # a port that is not a number from 0 to 65535 raises
    except ValueError as exc:
        return f"not a valid URL: {exc}"
    if "@" in parts.netloc:
        return (
            "a URL with a user name or password (user:password@) is refused: it would be "
            "stored and shown with the job"
        )
    if not parts.hostname:
        return "not a valid URL: it has no host"
    return None


class CreateUpscaleJob(WebhookOptions, ProviderChoice):
    """Body of `POST /v1/jobs/upscale`: the output is exactly `scale` times the input's size."""

    model_config = REQUEST_BODY

    image: ImageRef = Field(description="The image to upscale.")
    scale: Literal[2, 4] = Field(2, description="2 or 4.")
    format: Literal["png", "webp"] = Field("png", description="Output format.")
    priority: Priority = Field(Priority.NORMAL, description="See the image job's priority.")
    then: list[ChainStep] = Field(
        default_factory=list, max_length=5, description="Follow-up steps, as for an image job."
    )

    _steps = field_validator("then")(_valid_steps)


class CreateVideoJob(WebhookOptions, ProviderChoice):
    """Body of `POST /v1/jobs/video`: a prompt, input images, or both (a provider may need
    images: Runway animates the first one)."""

    model_config = REQUEST_BODY

    prompt: str | None = Field(None, min_length=1, max_length=2000, description="What to show.")
    negative_prompt: str | None = Field(None, max_length=2000, description="What to avoid.")
    images: list[ImageRef] = Field(
        default_factory=list,
        max_length=4,
        validate_default=True,
        description="0-4 images to animate, in order.",
    )
    duration_s: int = Field(4, ge=1, le=10, description="Length, 1-10 seconds.")
    fps: int = Field(24, ge=8, le=30, description="Frames per second, 8-30.")
    aspect_ratio: AspectRatio = Field("16:9", description="Shape of the video.")
    resolution: VideoResolution = Field("720p", description="480p or 720p.")
    seed: int | None = Field(None, ge=0, le=MAX_SEED, description="Random seed; chosen if omitted.")
    priority: Priority = Field(Priority.NORMAL, description="See the image job's priority.")

    @field_validator("images")
    @classmethod
    def _something_to_show(cls, images: list[ImageRef], info: ValidationInfo) -> list[ImageRef]:
        prompt = info.data.get("prompt")
        if not images and (prompt is None or not prompt.strip()):
            raise ValueError("give a prompt, input images, or both")
        return images


def resolve_size(body: ImageOptions) -> tuple[int, int]:
    """The pixel size a submission asks for."""
    if body.width is not None and body.height is not None:
        return body.width, body.height
    return ASPECT_SIZES[body.aspect_ratio or "1:1"]
