"""Runway image-to-video through its official async SDK: create a task, poll it with backoff
(progress from its `progress`), delete it when the job is cancelled or times out; the MP4
downloaded through the SSRF-safe fetcher (never with the key), described and stored by Darkroom.

A job's length maps to Runway's: 1-7 s asks for 5 s, 8-10 s for 10 s (the nearer one)."""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Sequence
from dataclasses import replace
from typing import Final, Literal, get_args

import httpx
from runwayml import APIConnectionError, APIStatusError, APITimeoutError, AsyncRunwayML, omit

from darkroom.contracts.errors import ErrorCode
from darkroom.contracts.params import VideoParams
from darkroom.media.fetch import FetchPolicy
from darkroom.runtime.inputs import InputSettings
from darkroom.runtime.providers.media import SourceImage, StepCallback
from darkroom.runtime.worker.errors import PermanentError, RetryableError, WorkerError
from darkroom.video_worker.providers.base import RenderedVideo
from darkroom.video_worker.providers.remote import MAX_VIDEO_BYTES, download_video
from darkroom.video_worker.providers.runway import RunwaySettings

logger = logging.getLogger(__name__)

API_VERSION = "2024-11-06"  # X-Runway-Version this code was written against
Ratio = Literal["1280:720", "720:1280", "1104:832", "832:1104", "960:960", "1584:672"]
RATIOS: tuple[Ratio, ...] = get_args(Ratio)
MODEL: Final = "gen4_turbo"  # the one model this client speaks (others take other inputs)
MAX_DATA_URI_BYTES = 5 * 1024 * 1024  # Runway's limit on an image sent as a data URI
CANCEL_TIMEOUT_S = 5.0
REFUSALS = ("SAFETY.", "INPUT_PREPROCESSING.SAFETY")


class RunwayVideos:
    def __init__(self, settings: RunwaySettings, fetch_policy: FetchPolicy | None = None):
        self.settings = settings
        policy = fetch_policy or InputSettings().fetch_policy
        self.fetch_policy = replace(policy, max_bytes=max(policy.max_bytes, MAX_VIDEO_BYTES))
        self.client = AsyncRunwayML(
            api_key=settings.api_key.get_secret_value(),
            base_url=settings.base_url,
            runway_version=API_VERSION,
            timeout=httpx.Timeout(settings.timeout_s),
            max_retries=0,  # Darkroom's retry policy owns retries
        )

    async def generate(
        self, params: VideoParams, images: Sequence[SourceImage], on_step: StepCallback
    ) -> RenderedVideo:
        if not images:
            raise PermanentError(
                ErrorCode.INVALID_INPUT, "Runway makes video from an image: give one in `images`"
            )
        if params.model != MODEL:
            raise ValueError(
                f"unknown model {params.model!r} for provider 'runway'; known: {MODEL}"
            )
        ratio = nearest_ratio(params.width, params.height)
        width, height = (int(side) for side in ratio.split(":"))
        image = await images[0].data_uri(MAX_DATA_URI_BYTES, cover=(width, height))
        try:
            task = await self.client.image_to_video.create(
                model=MODEL,
                prompt_image=image,
                ratio=ratio,
                duration=runway_duration(params.duration_s),
                seed=params.seed,
                prompt_text=params.prompt[:1000] if params.prompt else omit,
            )
            await on_step(1, 100, f"Runway task {task.id} created")
            url = await self._finish(task.id, on_step)
        except APIStatusError as exc:
            raise runway_error(exc) from exc
        except APITimeoutError as exc:
            raise RetryableError(ErrorCode.PROVIDER_TIMEOUT, "Runway did not answer") from exc
        except APIConnectionError as exc:
            raise RetryableError(ErrorCode.PROVIDER_UNAVAILABLE, f"Runway: {exc}") from exc
        return await download_video(url, self.fetch_policy, "Runway output")

    async def _finish(self, task_id: str, on_step: StepCallback) -> str:
        """Poll until the task ends (its output URL); a cancelled job deletes it at Runway."""
        wait, reported = self.settings.poll_interval_s, 1
        try:
            while True:
                await asyncio.sleep(wait)
                wait = min(wait * 1.5, self.settings.poll_max_interval_s)
                task = await self.client.tasks.retrieve(task_id)
                if task.status == "SUCCEEDED":
                    await on_step(100, 100, f"Runway task {task_id} succeeded")
                    return task.output[0]
                if task.status in ("FAILED", "CANCELLED"):
                    raise task_failure(task_id, task.status, task)
                percent = math.floor(getattr(task, "progress", 0.0) * 100)
                if reported < percent < 100:
                    reported = percent
                    await on_step(percent, 100, f"Runway task {task_id} {task.status.lower()}")
        except asyncio.CancelledError:
            await asyncio.shield(self._delete(task_id))
            raise

    async def _delete(self, task_id: str) -> None:
        try:
            await asyncio.wait_for(self.client.tasks.delete(task_id), CANCEL_TIMEOUT_S)
        except Exception as exc:  # the job is cancelled either way: say so, without secrets
            logger.warning("Runway task %s was not cancelled: %s", task_id, type(exc).__name__)


def nearest_ratio(width: int, height: int) -> Ratio:
    """The output ratio of gen4_turbo nearest the job's shape."""
    wanted = math.log(width / height)

    def distance(ratio: str) -> float:
        w, h = ratio.split(":")
        return abs(math.log(int(w) / int(h)) - wanted)

    return min(RATIOS, key=distance)


def runway_duration(duration_s: int) -> int:
    """Runway makes 5 or 10 s: the nearer of the two (1-7 s asks for 5, 8-10 s for 10)."""
    return 5 if duration_s <= 7 else 10


def task_failure(task_id: str, status: str, task: object) -> WorkerError:
    """A task that ended without output: a safety refusal is content_refused, an invalid asset
    invalid_input, anything else (a generation error, a deleted task) retryable."""
    code = str(getattr(task, "failure_code", None) or "")
    said = f"Runway task {task_id} {status}: {getattr(task, 'failure', '')} ({code})"[:300]
    if code.startswith(REFUSALS):
        return PermanentError(ErrorCode.CONTENT_REFUSED, said)
    if code.startswith("ASSET.INVALID"):
        return PermanentError(ErrorCode.INVALID_INPUT, said)
    return RetryableError(ErrorCode.PROVIDER_UNAVAILABLE, said)


def runway_error(exc: APIStatusError) -> WorkerError:
    """The worker error of a refused request; Runway's `error` text is kept."""
    body = exc.body if isinstance(exc.body, dict) else {}
    said = f"Runway {exc.status_code}: {body.get('error') or exc.message}"[:300]
    status = exc.status_code
    if status == 429:
        after = exc.response.headers.get("retry-after")
        seconds = float(after) if after and after.replace(".", "", 1).isdigit() else None
        return RetryableError(ErrorCode.RATE_LIMITED, said, retry_after_s=seconds)
    if status in (401, 403):
        return PermanentError(ErrorCode.PROVIDER_AUTH, said)
    if status in (408, 409) or status >= 500:
        return RetryableError(ErrorCode.PROVIDER_UNAVAILABLE, said)
    return PermanentError(ErrorCode.INVALID_INPUT, said)
