"""OpenAI Images (`POST /v1/images/generations`) through the official async SDK.

Sizes: each model takes a few fixed sizes; the job's shape (its aspect ratio, or width and
height) picks the one closest in aspect ratio, and the stored image has the size the model made.
Images come back base64-encoded in the answer (never a URL pointing at OpenAI). The SDK's own
retries are off: Darkroom's retry policy owns them, honouring a 429's Retry-After.
"""

from __future__ import annotations

import asyncio
import base64
import math

from openai import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    AsyncOpenAI,
    omit,
)

from darkroom.contracts.errors import ErrorCode
from darkroom.contracts.params import ImageParams
from darkroom.image_worker.providers.base import GeneratedImage, StepCallback
from darkroom.image_worker.providers.openai_images import OpenAISettings
from darkroom.image_worker.providers.remote import decode_image
from darkroom.runtime.providers.answers import response_error
from darkroom.runtime.worker.errors import PermanentError, RetryableError, WorkerError

SIZES: dict[str, tuple[tuple[int, int], ...]] = {
    "gpt-image-1": ((1024, 1024), (1536, 1024), (1024, 1536)),
    "dall-e-3": ((1024, 1024), (1792, 1024), (1024, 1792)),
    "dall-e-2": ((1024, 1024), (512, 512), (256, 256)),
}
ONE_PER_REQUEST = {"dall-e-3"}  # n must be 1: one request per image
REFUSALS = {"content_policy_violation", "moderation_blocked"}


class OpenAIImages:
    """The SDK's client, and how a job's images are asked of it."""

    def __init__(self, settings: OpenAISettings) -> None:
        self.client = AsyncOpenAI(
            api_key=settings.api_key.get_secret_value(),
            base_url=settings.base_url,
            organization=settings.organization,
            timeout=settings.timeout_s,
            max_retries=0,
        )

    async def generate(self, params: ImageParams, on_step: StepCallback) -> list[GeneratedImage]:
        width, height = openai_size(params.model, params.width, params.height)
        calls = params.num_images if params.model in ONE_PER_REQUEST else 1
        n = 1 if calls > 1 else params.num_images
        await on_step(1, 3)
        try:
            answers = await asyncio.gather(
                *(self._generate(params, f"{width}x{height}", n) for _ in range(calls))
            )
        except (APIStatusError, APIConnectionError) as exc:
            raise openai_error(exc) from exc
        await on_step(2, 3)
        images = [_decode(b64) for answer in answers for b64 in answer]
        await on_step(3, 3)
        return images

    async def _generate(self, params: ImageParams, size: str, n: int) -> list[str]:
        answer = await self.client.images.generate(
            model=params.model,
            prompt=params.prompt,
            n=n,
            size=size,
            # gpt-image-1 always answers base64 and refuses the parameter
            response_format=omit if params.model == "gpt-image-1" else "b64_json",
        )
        return [image.b64_json or "" for image in answer.data or []]


def openai_size(model: str, width: int, height: int) -> tuple[int, int]:
    """The model's size closest to the job's aspect ratio (the largest of equals)."""
    wanted = math.log(width / height)
    return min(SIZES[model], key=lambda s: (abs(math.log(s[0] / s[1]) - wanted), -s[0] * s[1]))


def _decode(b64: str) -> GeneratedImage:
    if not b64:
        raise RetryableError(ErrorCode.PROVIDER_UNAVAILABLE, "OpenAI answered without an image")
    return decode_image(base64.b64decode(b64))


def openai_error(exc: APIStatusError | APIConnectionError) -> WorkerError:
    """The worker error of an SDK error; OpenAI's code and message are kept in the message."""
    if isinstance(exc, APITimeoutError):
        return RetryableError(ErrorCode.PROVIDER_TIMEOUT, "OpenAI did not answer in time")
    if isinstance(exc, APIConnectionError):
        return RetryableError(ErrorCode.PROVIDER_UNAVAILABLE, f"OpenAI unreachable: {exc}")
    said = f"OpenAI {exc.status_code} {exc.code or ''}: {exc.message}".replace("  ", " ")
    if exc.code in REFUSALS:
        return PermanentError(ErrorCode.CONTENT_REFUSED, said)
    if exc.status_code == 409:  # a conflict on OpenAI's side: trying again may succeed
        return RetryableError(ErrorCode.PROVIDER_UNAVAILABLE, said)
    return response_error(exc.response, said)
