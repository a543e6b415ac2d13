"""Replicate predictions through the official SDK: create, poll with backoff (progress from the
prediction's logs), cancel when the job is cancelled or times out, and the outputs downloaded
through the SSRF-safe fetcher (INPUT_FETCH_* settings) and stored by Darkroom."""

from __future__ import annotations

import asyncio
import contextlib
import math
import re
from typing import Any

import httpx
from replicate.client import Client
from replicate.exceptions import ReplicateError
from replicate.prediction import Prediction

from darkroom.contracts.errors import ErrorCode
from darkroom.contracts.params import ImageParams
from darkroom.image_worker.providers.base import GeneratedImage, StepCallback
from darkroom.image_worker.providers.remote import download_image
from darkroom.image_worker.providers.replicate_images import ReplicateSettings
from darkroom.media.fetch import FetchPolicy
from darkroom.runtime.inputs import InputSettings
from darkroom.runtime.worker.errors import PermanentError, RetryableError, WorkerError

ASPECT_RATIOS = ("1:1", "16:9", "21:9", "3:2", "2:3", "4:5", "5:4", "3:4", "4:3", "9:16", "9:21")
REFUSAL = re.compile(r"nsfw|safety|sensitive", re.IGNORECASE)
WAIT_HINT = re.compile(r"available in (\d+(?:\.\d+)?) second")
FINISHED = {"succeeded", "failed", "canceled"}


class ReplicatePredictions:
    def __init__(self, settings: ReplicateSettings, fetch_policy: FetchPolicy | None = None):
        self.settings = settings
        self.fetch_policy = fetch_policy or InputSettings().fetch_policy
        self.client = Client(
            api_token=settings.api_token.get_secret_value(),
            base_url=settings.base_url,
            timeout=httpx.Timeout(settings.timeout_s),
        )

    async def generate(self, params: ImageParams, on_step: StepCallback) -> list[GeneratedImage]:
        try:
            prediction = await self.client.predictions.async_create(
                model=params.model, input=replicate_input(params)
            )
            await on_step(1, 100)
            output = await self._finish(prediction, on_step)
        except ReplicateError as exc:
            raise replicate_error(exc) from exc
        except httpx.TimeoutException as exc:
            raise RetryableError(ErrorCode.PROVIDER_TIMEOUT, "Replicate did not answer") from exc
        except httpx.TransportError as exc:
            raise RetryableError(ErrorCode.PROVIDER_UNAVAILABLE, f"Replicate: {exc}") from exc
        urls = output if isinstance(output, list) else [output]
        return [
            await download_image(str(url), self.fetch_policy, "Replicate output") for url in urls
        ]

    async def _finish(self, prediction: Prediction, on_step: StepCallback) -> Any:
        """Poll until the prediction ends; a cancelled job cancels it at Replicate too."""
        wait, reported = self.settings.poll_interval_s, 1
        try:
            while prediction.status not in FINISHED:
                await asyncio.sleep(wait)
                wait = min(wait * 1.5, self.settings.poll_max_interval_s)
                await prediction.async_reload()
                progress = prediction.progress
                percent = math.floor(progress.percentage * 100) if progress else 0
                if 1 < percent < 100 and percent > reported:
                    reported = percent
                    await on_step(percent, 100)
        except asyncio.CancelledError:
            with contextlib.suppress(Exception):
                await asyncio.shield(prediction.async_cancel())
            raise
        if prediction.status == "succeeded":
            return prediction.output
        said = f"Replicate prediction {prediction.id} {prediction.status}: {prediction.error}"
        if prediction.error and REFUSAL.search(prediction.error):
            raise PermanentError(ErrorCode.CONTENT_REFUSED, said)
        raise RetryableError(ErrorCode.PROVIDER_UNAVAILABLE, said)


def replicate_input(params: ImageParams) -> dict[str, Any]:
    """The input of the FLUX models on Replicate: the aspect ratio nearest the job's shape."""
    wanted = math.log(params.width / params.height)
    ratio = min(ASPECT_RATIOS, key=lambda r: abs(math.log(_value(r)) - wanted))
    return {
        "prompt": params.prompt,
        "aspect_ratio": ratio,
        "num_outputs": params.num_images,
        "seed": params.seed,
        "output_format": "png",
    }


def _value(ratio: str) -> float:
    width, height = ratio.split(":")
    return int(width) / int(height)


def replicate_error(exc: ReplicateError) -> WorkerError:
    """The worker error of a refused request; Replicate's title and detail are kept."""
    status = exc.status or 0
    said = f"Replicate {status} {exc.title or ''}: {exc.detail or ''}".replace("  ", " ")
    if status == 429:
        hint = WAIT_HINT.search(exc.detail or "")
        seconds = float(hint.group(1)) if hint else None
        return RetryableError(ErrorCode.RATE_LIMITED, said, retry_after_s=seconds)
    if status in (401, 403):
        return PermanentError(ErrorCode.PROVIDER_AUTH, said)
    if status == 402 or status >= 500 or status == 0:
        return RetryableError(ErrorCode.PROVIDER_UNAVAILABLE, said)
    return PermanentError(ErrorCode.INVALID_INPUT, said)
