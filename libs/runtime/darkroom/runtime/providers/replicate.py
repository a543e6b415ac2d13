"""Replicate predictions through the official SDK, for every job type: create, poll with backoff
(progress from the prediction's logs), cancel when the job is cancelled or times out, and
Replicate's answers as worker errors. What goes in and comes out is the job type's plug-in's.
Only those plug-ins import this module: their worker packages declare the SDK."""

from __future__ import annotations

import asyncio
import contextlib
import io
import math
import re
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
from replicate.client import Client
from replicate.exceptions import ReplicateError
from replicate.prediction import Prediction

from darkroom.contracts.errors import ErrorCode
from darkroom.runtime.providers.answers import status_error
from darkroom.runtime.providers.media import EncodedInput
from darkroom.runtime.providers.replicate_settings import ReplicateSettings
from darkroom.runtime.worker.errors import PermanentError, RetryableError, WorkerError

REFUSAL = re.compile(r"nsfw|safety|sensitive", re.IGNORECASE)
WAIT_HINT = re.compile(r"available in (\d+(?:\.\d+)?) second")
FINISHED = {"succeeded", "failed", "canceled"}
# Replicate recommends data URIs for files under 1 MB; bigger inputs go through its files API.
MAX_DATA_URI_BYTES = 1_000_000

Steps = Callable[[int, int], Awaitable[None]]


class ReplicatePredictions:
    """One client of Replicate's predictions API."""

    def __init__(self, settings: ReplicateSettings) -> None:
        self.settings = settings
        self.client = Client(
            api_token=settings.api_token.get_secret_value(),
            base_url=settings.base_url,
            timeout=httpx.Timeout(settings.timeout_s),
        )

    async def run(self, model: str, payload: dict[str, Any], on_step: Steps) -> Any:
        """The output of a prediction of `model` (`owner/name` for an official model, or
        `owner/name:version` for a community one) on `payload`; progress as percent steps."""
        try:
            prediction = await self._create(model, payload)
            await on_step(1, 100)
            return await self._finish(prediction, on_step)
        except ReplicateError as exc:
            raise replicate_error(exc) from exc
        except httpx.TimeoutException as exc:
            raise RetryableError(ErrorCode.PROVIDER_TIMEOUT, "Replicate did not answer") from exc
        except httpx.TransportError as exc:
            raise RetryableError(ErrorCode.PROVIDER_UNAVAILABLE, f"Replicate: {exc}") from exc

    async def _create(self, model: str, payload: dict[str, Any]) -> Prediction:
        predictions = self.client.predictions
        if ":" in model:
            version = model.split(":", 1)[1]
            return await predictions.async_create(version=version, input=payload)
        return await predictions.async_create(model=model, input=payload)

    async def _finish(self, prediction: Prediction, on_step: Steps) -> Any:
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
            raise PermanentError(ErrorCode.CONTENT_REFUSED, said[:300])
        raise RetryableError(ErrorCode.PROVIDER_UNAVAILABLE, said[:300])


def input_file(image: EncodedInput) -> str | io.BytesIO:
    """An input file as Replicate takes it: a data URI when small, else a file the SDK uploads
    (`POST /v1/files`) and names by its URL."""
    uri = image.data_uri()
    return uri if len(uri) < MAX_DATA_URI_BYTES else io.BytesIO(image.data)


def output_urls(output: Any) -> list[str]:
    """The file URLs of a prediction's output (one URL, or a list of them)."""
    return [str(url) for url in (output if isinstance(output, list) else [output])]


def replicate_error(exc: ReplicateError) -> WorkerError:
    """The worker error of a refused request; Replicate's title and detail are kept."""
    status = exc.status or 0
    said = f"Replicate {status} {exc.title or ''}: {exc.detail or ''}".replace("  ", " ")[:300]
    if status in (0, 402):  # no answer, or out of credits: retried, then dead-lettered
        return RetryableError(ErrorCode.PROVIDER_UNAVAILABLE, said)
    hint = WAIT_HINT.search(exc.detail or "")  # Replicate says how long in the detail
    return status_error(status, said, float(hint.group(1)) if hint else None)
