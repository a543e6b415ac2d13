"""Gemini image models (`POST /v1beta/models/{model}:generateContent`) through Google's official
async SDK (google-genai).

A call makes one image: a job of n images makes n calls at once (seeds seed, seed + 1, …), each at
the aspect ratio nearest the job's shape, and stores the image as Gemini made it (inline base64,
its real size). One request per call: the SDK's retries, function calling and continuation are
off, so Darkroom's retry policy owns retries. Google has no cancel: a cancelled job stops waiting.
"""

from __future__ import annotations

import asyncio
import math
import re
from collections.abc import Coroutine
from typing import Any

import httpx
from google import genai
from google.genai import errors, types

from darkroom.contracts.errors import ErrorCode
from darkroom.contracts.params import ImageParams
from darkroom.image_worker.providers.base import GeneratedImage, StepCallback
from darkroom.image_worker.providers.google_images import GoogleSettings
from darkroom.image_worker.providers.remote import decode_image
from darkroom.runtime.providers.answers import status_error
from darkroom.runtime.worker.errors import PermanentError, RetryableError, WorkerError

ASPECT_RATIOS = ("1:1", "2:3", "3:2", "3:4", "4:3", "4:5", "5:4", "9:16", "16:9", "21:9")
# The version of Google's image-generation REST guide (the SDK's default became v1 in 3.0).
API_VERSION = "v1beta"
SEED_LIMIT = 2**31  # generationConfig.seed is an int32
REFUSALS = {
    "SAFETY", "IMAGE_SAFETY", "PROHIBITED_CONTENT", "IMAGE_PROHIBITED_CONTENT", "BLOCKLIST",
    "SPII", "RECITATION", "IMAGE_RECITATION",
}  # fmt: skip
BAD_KEYS = {"API_KEY_INVALID", "API_KEY_EXPIRED"}  # a 400 INVALID_ARGUMENT, says its ErrorInfo
RETRY_DELAY = re.compile(r"^(\d+(?:\.\d+)?)s$")


class GeminiImages:
    """The SDK's client, and how a job's images are asked of it."""

    def __init__(self, settings: GoogleSettings) -> None:
        self.client = genai.Client(
            api_key=settings.api_key.get_secret_value(),
            vertexai=False,  # whatever GOOGLE_GENAI_USE_VERTEXAI says: the Gemini API
            http_options=types.HttpOptions(
                base_url=settings.base_url,
                api_version=API_VERSION,
                timeout=math.ceil(settings.timeout_s * 1000),  # milliseconds
                retry_options=types.HttpRetryOptions(attempts=1),
                # httpx, not the aiohttp or httpx2 the SDK picks when installed: one known
                # set of transport errors
                httpx_async_client=httpx.AsyncClient(),
            ),
        )

    async def generate(self, params: ImageParams, on_step: StepCallback) -> list[GeneratedImage]:
        ratio = gemini_aspect_ratio(params.width, params.height)
        total, done = params.num_images + 1, 1
        await on_step(done, total)

        async def one(index: int) -> GeneratedImage:
            nonlocal done
            image = await self._image(params, ratio, (params.seed + index) % SEED_LIMIT)
            done += 1
            await on_step(done, total)
            return image

        return await _all_or_none([one(i) for i in range(params.num_images)])

    async def _image(self, params: ImageParams, ratio: str, seed: int) -> GeneratedImage:
        config = types.GenerateContentConfig(
            response_modalities=["IMAGE"],
            image_config=types.ImageConfig(aspect_ratio=ratio),
            seed=seed,
            automatic_function_calling=types.AutomaticFunctionCallingConfig(disable=True),
            automatic_continuation=False,
        )
        try:
            answer = await self.client.aio.models.generate_content(
                model=params.model, contents=params.prompt, config=config
            )
        except errors.APIError as exc:
            raise google_error(exc) from exc
        except httpx.TimeoutException as exc:
            raise RetryableError(
                ErrorCode.PROVIDER_TIMEOUT, "Google did not answer in time"
            ) from exc
        except httpx.TransportError as exc:
            raise RetryableError(
                ErrorCode.PROVIDER_UNAVAILABLE, f"Google unreachable: {exc}"
            ) from exc
        return answer_image(answer)


async def _all_or_none(calls: list[Coroutine[Any, Any, GeneratedImage]]) -> list[GeneratedImage]:
    """Every call's image; the first failure cancels the calls still running (none of them
    reports progress on an attempt that has failed)."""
    tasks = [asyncio.ensure_future(call) for call in calls]
    try:
        return list(await asyncio.gather(*tasks))
    except BaseException:
        for task in tasks:
            task.cancel()
        raise


def gemini_aspect_ratio(width: int, height: int) -> str:
    """The aspect ratio Gemini takes nearest the job's shape."""
    wanted = math.log(width / height)
    return min(ASPECT_RATIOS, key=lambda r: abs(math.log(_value(r)) - wanted))


def _value(ratio: str) -> float:
    width, height = ratio.split(":")
    return int(width) / int(height)


def answer_image(answer: types.GenerateContentResponse) -> GeneratedImage:
    """The image of an answer; a blocked prompt or a refused image is content_refused with
    Google's reason, an answer without an image (NO_IMAGE, OTHER…) is retried."""
    feedback = answer.prompt_feedback
    if feedback is not None and feedback.block_reason is not None:
        said = f"Google blocked the prompt: {_name(feedback.block_reason)}"
        raise PermanentError(ErrorCode.CONTENT_REFUSED, _with(said, feedback.block_reason_message))
    candidate = answer.candidates[0] if answer.candidates else None
    parts = (candidate.content.parts if candidate and candidate.content else None) or []
    images = [p.inline_data.data for p in parts if p.inline_data and p.inline_data.data]
    if images:  # the last: a thinking model's interim images come before its final one
        return decode_image(images[-1])
    reason = _name(candidate.finish_reason) if candidate and candidate.finish_reason else "none"
    message = candidate.finish_message if candidate else None
    words = " ".join(p.text for p in parts if p.text) or message
    said = _with(f"Google answered without an image (finish reason {reason})", words)
    if reason in REFUSALS:
        raise PermanentError(ErrorCode.CONTENT_REFUSED, said)
    raise RetryableError(ErrorCode.PROVIDER_UNAVAILABLE, said)


def _name(value: object) -> str:
    return str(getattr(value, "value", value))


def _with(said: str, words: str | None) -> str:
    return f"{said}: {words}"[:300] if words else said


def google_error(exc: errors.APIError) -> WorkerError:
    """The worker error of an SDK error; Google's code, status and message are kept."""
    status = exc.code or 0
    said = f"Google {status} {exc.status or ''}: {exc.message or ''}".replace("  ", " ")[:300]
    if status != 429 and BAD_KEYS & {d.get("reason") for d in _details(exc)}:
        return PermanentError(ErrorCode.PROVIDER_AUTH, said)
    if status in (408, 504):
        return RetryableError(ErrorCode.PROVIDER_TIMEOUT, said)
    return status_error(status, said, _retry_after(exc))


def _details(exc: errors.APIError) -> list[dict[str, Any]]:
    """The `error.details` of Google's error body (google.rpc ErrorInfo, RetryInfo…)."""
    body = exc.details.get("error", exc.details) if isinstance(exc.details, dict) else {}
    details = body.get("details") if isinstance(body, dict) else None
    return [d for d in details if isinstance(d, dict)] if isinstance(details, list) else []


def _retry_after(exc: errors.APIError) -> float | None:
    """A Retry-After header if one came, else the RetryInfo delay Google writes ("7s")."""
    headers = getattr(exc.response, "headers", None)
    value = headers.get("retry-after") if headers is not None else None
    if value is not None and value.replace(".", "", 1).isdigit():
        return float(value)
    for detail in _details(exc):
        if str(detail.get("@type", "")).endswith("google.rpc.RetryInfo"):
            delay = RETRY_DELAY.match(str(detail.get("retryDelay", "")))
            return float(delay.group(1)) if delay else None
    return None
