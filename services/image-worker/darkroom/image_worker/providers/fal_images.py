"""fal.ai FLUX models through fal's queue (`queue.fal.run`, fal_queue): one request makes all the
job's images, at the job's exact size, as PNG, with fal's safety checker on. The images fal puts
on its CDN are downloaded at once through the SSRF-safe fetcher (INPUT_FETCH_* settings), without
the key, and stored by Darkroom. An image the safety checker blacked out refuses the whole job:
fewer images than asked are never returned as a success."""

from __future__ import annotations

import asyncio
from typing import Any, ClassVar

from pydantic import BaseModel, Field, PositiveFloat, SecretStr, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from darkroom.contracts.errors import ErrorCode
from darkroom.contracts.params import ImageParams
from darkroom.contracts.providers import ProviderInfo, ProviderLimitsInfo
from darkroom.image_worker.providers.base import GeneratedImage, StepCallback, image_model
from darkroom.image_worker.providers.fal_queue import FalQueue, QueueStatus
from darkroom.image_worker.providers.remote import download_image
from darkroom.media.fetch import FetchPolicy
from darkroom.runtime.inputs import InputSettings
from darkroom.runtime.worker.errors import PermanentError, RetryableError

TOTAL = 100  # progress is a percentage: queue 1-9, run 10-89, result 90, downloads up to 100


class FalSettings(BaseSettings):
    """FAL_KEY (required; fal's own name), FAL_QUEUE_URL, FAL_POLL_INTERVAL_S,
    FAL_POLL_MAX_INTERVAL_S, FAL_TIMEOUT_S."""

    model_config = SettingsConfigDict(env_prefix="FAL_", extra="ignore", env_ignore_empty=True)

    key: SecretStr = Field(description="fal API key (`key_id:key_secret`).")
    queue_url: str = Field("https://queue.fal.run", description="Queue API base URL.")
    poll_interval_s: PositiveFloat = Field(0.25, description="First wait between two polls.")
    poll_max_interval_s: PositiveFloat = Field(2.0, description="Longest wait between polls.")
    timeout_s: PositiveFloat = Field(30.0, description="Longest wait for one answer.")


class FalImage(BaseModel):
    """One image of a FLUX output, on fal's CDN."""

    url: str
    width: int | None = None
    height: int | None = None
    content_type: str | None = None


class FluxOutput(BaseModel):
    """What fal's FLUX models answer: the images, and which of them the safety checker flagged
    (those come back black)."""

    images: list[FalImage]
    has_nsfw_concepts: list[bool] = Field(default_factory=list)
    seed: int | None = None


class FalProvider:
    info: ClassVar[ProviderInfo] = ProviderInfo(
        name="fal",
        description="fal.ai: FLUX models through fal's queue (submit, poll, cancel).",
        models=[
            image_model("fal-ai/flux/schnell", 0.003, "FLUX.1 [schnell]; $0.003 per megapixel."),
            image_model("fal-ai/flux/dev", 0.025, "FLUX.1 [dev]; $0.025 per megapixel."),
            image_model("fal-ai/flux-pro/v1.1", 0.04, "FLUX1.1 [pro]; $0.04 per megapixel."),
        ],
        limits=ProviderLimitsInfo(starts_per_s=5.0, concurrency=8, timeout_s=300.0),
    )
    settings_class: ClassVar[type[BaseSettings]] = FalSettings

    def __init__(self, settings: FalSettings, fetch_policy: FetchPolicy | None = None) -> None:
        self.fetch_policy = fetch_policy or InputSettings().fetch_policy
        self.queue = FalQueue(settings)

    async def generate_image(
        self, params: ImageParams, on_step: StepCallback
    ) -> list[GeneratedImage]:
        progress = Progress(on_step)
        output = await self.queue.run(params.model, fal_input(params), progress.queued)
        images = checked_images(output, params.num_images)
        await progress.advance(90)
        done = 0

        async def download(image: FalImage) -> GeneratedImage:
            nonlocal done
            result = await download_image(image.url, self.fetch_policy, "fal result")
            done += 1
            await progress.advance(90 + 10 * done // len(images))
            return result

        return list(await asyncio.gather(*(download(image) for image in images)))


def fal_input(params: ImageParams) -> dict[str, Any]:
    """The input of fal's FLUX models: the job's exact size, all its images in one request."""
    return {
        "prompt": params.prompt,
        "image_size": {"width": params.width, "height": params.height},
        "num_images": params.num_images,
        "seed": params.seed,
        "output_format": "png",
        "enable_safety_checker": True,
    }


def checked_images(output: dict[str, Any], wanted: int) -> list[FalImage]:
    """The images of a FLUX output, all of them usable: one the safety checker flagged refuses
    the job (it is black); fewer images than asked is a failed run, retried."""
    try:
        flux = FluxOutput.model_validate(output)
    except ValidationError as exc:
        said = f"fal answered an unexpected result: {str(exc)[:200]}"
        raise RetryableError(ErrorCode.PROVIDER_UNAVAILABLE, said) from exc
    flagged = sum(flux.has_nsfw_concepts)
    if flagged:
        said = (
            f"fal: the safety checker flagged {flagged} of {len(flux.images)} images "
            f"(has_nsfw_concepts {flux.has_nsfw_concepts}); they came back black"
        )
        raise PermanentError(ErrorCode.CONTENT_REFUSED, said)
    if len(flux.images) < wanted:
        said = f"fal made {len(flux.images)} of the {wanted} images asked"
        raise RetryableError(ErrorCode.PROVIDER_UNAVAILABLE, said)
    return flux.images[:wanted]


class Progress:
    """The job's progress from the queue's answers: the position while queued, the runner's
    log lines while running (each one a step closer to 90), then the downloads."""

    def __init__(self, on_step: StepCallback) -> None:
        self.on_step = on_step
        self.done = 0

    async def queued(self, status: QueueStatus) -> None:
        if status.status == "IN_QUEUE":
            await self.advance(max(1, 9 - (status.queue_position or 0)))
        elif status.status == "IN_PROGRESS":
            await self.advance(90 - int(80 * 0.75**status.log_lines))

    async def advance(self, done: int) -> None:
        """Report `done` of 100 if it is further than reported so far."""
        if done > self.done:
            self.done = done
            await self.on_step(done, TOTAL)
