"""RunPod serverless: a team's own image model behind its queue-based endpoint (`api.runpod.ai/v2`).

One RunPod job per Darkroom job: `POST /v2/{endpoint}/run` with the `input` below and a `policy`
(executionTimeout, ttl), `/status/{id}` polled with backoff, `/cancel/{id}` when the attempt is
abandoned. The worker contract (docs/providers.md has the long story):

    input   {"prompt", "negative_prompt" (or null), "width", "height", "num_images", "seed", "model"}
    output  {"images": [item, ...]}, an item being a base64 PNG, a data URI or a URL, or an object
            with one of "url", "image" or "data" (worker-comfyui's {"filename", "type", "data"});
            {"image_url": ...} alone (worker-sdxl) or a list of items are read too
    refusal {"error": "<message>", "error_type": "content_refused" | "invalid_input"}, or an
            error "<error_type>: <message>": the job fails for good, any other error is retried
    progress runpod.serverless.progress_update(job, {"progress": 0.0 to 1.0}) while it runs

URLs are downloaded through the SSRF-safe fetcher (INPUT_FETCH_* settings), never with the key.
httpx, not the `runpod` SDK: its async client reads the key and base URL from module globals,
rides on aiohttp and sends no `policy`.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import logging
import math
import re
from typing import Any, ClassVar

import httpx
from pydantic import Field, PositiveFloat, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from darkroom.contracts.errors import ErrorCode
from darkroom.contracts.params import ImageParams
from darkroom.contracts.providers import ProviderInfo, ProviderLimitsInfo
from darkroom.image_worker.providers.base import GeneratedImage, StepCallback, image_model
from darkroom.image_worker.providers.remote import decode_image, download_image
from darkroom.media.fetch import FetchPolicy
from darkroom.runtime.inputs import InputSettings
from darkroom.runtime.providers.answers import json_object, response_error, send
from darkroom.runtime.worker.errors import PermanentError, RetryableError, WorkerError

logger = logging.getLogger(__name__)

TOTAL = 100  # progress steps: 1 queued, 2 running, up to 98 as the worker reports, 100 stored
FINISHED = {"COMPLETED", "FAILED", "CANCELLED", "TIMED_OUT"}
RUNNING = {"IN_PROGRESS", "RUNNING"}
PERMANENT_KINDS = {
    "content_refused": ErrorCode.CONTENT_REFUSED,
    "invalid_input": ErrorCode.INVALID_INPUT,
}
JOB_ID = re.compile(r"[A-Za-z0-9_-]{1,200}")
CANCEL_TIMEOUT_S = 5.0


class RunpodSettings(BaseSettings):
    """RUNPOD_API_KEY and RUNPOD_ENDPOINT_ID (required), RUNPOD_BASE_URL, RUNPOD_POLL_INTERVAL_S,
    RUNPOD_POLL_MAX_INTERVAL_S, RUNPOD_TIMEOUT_S, RUNPOD_EXECUTION_TIMEOUT_S, RUNPOD_TTL_S."""

    model_config = SettingsConfigDict(env_prefix="RUNPOD_", extra="ignore", env_ignore_empty=True)

    api_key: SecretStr = Field(description="RunPod API key (sent as a Bearer token).")
    endpoint_id: str = Field(
        pattern=r"^[A-Za-z0-9_-]{1,100}$",
        description="Id of the team's serverless endpoint that runs the Darkroom worker contract.",
    )
    base_url: str = Field("https://api.runpod.ai", description="API base URL (without /v2).")
    poll_interval_s: PositiveFloat = Field(0.5, description="First wait between two polls.")
    poll_max_interval_s: PositiveFloat = Field(5.0, description="Longest wait between polls.")
    timeout_s: PositiveFloat = Field(30.0, description="Longest wait for one answer.")
    execution_timeout_s: float = Field(
        600.0,
        ge=5,
        le=7 * 86400,
        description="RunPod stops a job running longer (executionTimeout).",
    )
    ttl_s: float = Field(
        3600.0,
        ge=10,
        le=7 * 86400,
        description="RunPod drops a job older than this, queued or not.",
    )


class RunpodProvider:
    info: ClassVar[ProviderInfo] = ProviderInfo(
        name="runpod",
        description="RunPod serverless: the team's own model behind a custom endpoint.",
        models=[
            image_model(
                "endpoint",
                0.0,
                "The model behind RUNPOD_ENDPOINT_ID; RunPod bills its GPU time to the team.",
            )
        ],
        # a cold start of a custom endpoint can take minutes before the job runs
        limits=ProviderLimitsInfo(starts_per_s=5.0, concurrency=4, timeout_s=900.0),
    )
    settings_class: ClassVar[type[BaseSettings]] = RunpodSettings

    def __init__(self, settings: RunpodSettings, fetch_policy: FetchPolicy | None = None) -> None:
        self.settings = settings
        self.fetch_policy = fetch_policy or InputSettings().fetch_policy
        self.client = httpx.AsyncClient(
            base_url=f"{settings.base_url.rstrip('/')}/v2/{settings.endpoint_id}",
            headers={
                "authorization": f"Bearer {settings.api_key.get_secret_value()}",
                "accept": "application/json",
            },
            timeout=settings.timeout_s,
        )

    async def generate_image(
        self, params: ImageParams, on_step: StepCallback
    ) -> list[GeneratedImage]:
        job = await self._call("POST", "/run", json=self._request(params))
        job_id = str(job.get("id", ""))
        if not JOB_ID.fullmatch(job_id):
            said = f"RunPod answered no job id: {str(job)[:200]}"
            raise RetryableError(ErrorCode.PROVIDER_UNAVAILABLE, said)
        await on_step(1, TOTAL)
        try:
            answer = await self._finish(job_id, on_step)
        except BaseException:  # cancelled, timed out or polling failed: nobody waits for it now
            await self._cancel(job_id)
            raise
        refs = result_images(job_id, answer)[: params.num_images]
        images = [await self._image(ref) for ref in refs]
        await on_step(TOTAL, TOTAL)
        return images

    def _request(self, params: ImageParams) -> dict[str, Any]:
        return {
            "input": {
                "prompt": params.prompt,
                "negative_prompt": params.negative_prompt,
                "width": params.width,
                "height": params.height,
                "num_images": params.num_images,
                "seed": params.seed,
                "model": params.model,
            },
            "policy": {
                "executionTimeout": round(self.settings.execution_timeout_s * 1000),
                "ttl": round(self.settings.ttl_s * 1000),
            },
        }

    async def _finish(self, job_id: str, on_step: StepCallback) -> dict[str, Any]:
        """Poll until the job ends (its last answer), reporting each step it reached."""
        wait, reported = self.settings.poll_interval_s, 1
        while True:
            await asyncio.sleep(wait)
            wait = min(wait * 1.5, self.settings.poll_max_interval_s)
            answer = await self._call("GET", f"/status/{job_id}")
            if answer.get("status") in FINISHED:
                return answer
            step = progress_step(answer)
            if step > reported:
                reported = step
                await on_step(step, TOTAL)

    async def _cancel(self, job_id: str) -> None:
        """Best effort: a job left running stops at its executionTimeout or ttl."""
        try:
            cancel = self.client.post(f"/cancel/{job_id}", timeout=CANCEL_TIMEOUT_S)
            await asyncio.shield(cancel)
        except Exception as exc:
            logger.warning("RunPod job %s not cancelled: %s", job_id, type(exc).__name__)

    async def _image(self, ref: str) -> GeneratedImage:
        if ref.startswith(("http://", "https://")):
            return await download_image(ref, self.fetch_policy, "RunPod worker result")
        try:
            return decode_image(base64.b64decode(ref.split(",", 1)[-1]))  # a data URI or bare
        except (binascii.Error, ValueError, OSError) as exc:
            said = f"RunPod worker answered an image Darkroom cannot read: {exc}"
            raise RetryableError(ErrorCode.PROVIDER_UNAVAILABLE, said[:300]) from exc

    async def _call(self, method: str, url: str, **kwargs: Any) -> dict[str, Any]:
        response = await send(self.client, "RunPod", method, url, **kwargs)
        if not response.is_success:
            raise runpod_error(response)
        return json_object(response, "RunPod")


def progress_step(answer: dict[str, Any]) -> int:
    """The step of a running job: 1 queued, 2 running, up to 98 as its progress updates say."""
    if answer.get("status") not in RUNNING:
        return 1
    output = answer.get("output")
    fraction = output.get("progress") if isinstance(output, dict) else None
    if not isinstance(fraction, int | float) or not 0 <= fraction <= 1:
        return 2
    return 2 + math.floor(fraction * (TOTAL - 4))


def result_images(job_id: str, answer: dict[str, Any]) -> list[str]:
    """The images (base64, data URI or URL) of a finished job, or the job's error."""
    status, output = answer.get("status"), answer.get("output")
    error = answer.get("error") or (output.get("error") if isinstance(output, dict) else None)
    said = f"RunPod job {job_id} {status}: {error or 'no error given'}"[:300]
    kind = _error_kind(output, error)
    if kind is not None:
        raise PermanentError(kind, said)
    if status == "TIMED_OUT":
        raise RetryableError(ErrorCode.PROVIDER_TIMEOUT, said)
    if status != "COMPLETED" or error:
        raise RetryableError(ErrorCode.PROVIDER_UNAVAILABLE, said)
    refs = _image_refs(output)
    if not refs:
        said = f"RunPod job {job_id} completed without images: {str(output)[:200]}"
        raise RetryableError(ErrorCode.PROVIDER_UNAVAILABLE, said)
    return refs


def _error_kind(output: Any, error: Any) -> ErrorCode | None:
    """A refusal the worker declared: `error_type` beside its error, or its error's prefix (in
    case RunPod drops a failed job's output)."""
    kind = output.get("error_type") if isinstance(output, dict) else None
    if kind is None and isinstance(error, str):
        kind = error.split(":", 1)[0].strip()
    return PERMANENT_KINDS.get(kind) if isinstance(kind, str) else None


def _image_refs(output: Any) -> list[str]:
    if isinstance(output, dict):
        items = output.get("images") or [output.get("image_url") or output.get("image")]
    else:
        items = output if isinstance(output, list) else [output]
    found = (
        item.get("url") or item.get("image") or item.get("data") if isinstance(item, dict) else item
        for item in (items if isinstance(items, list) else [])
    )
    return [ref for ref in found if isinstance(ref, str) and ref]


def runpod_error(response: httpx.Response) -> WorkerError:
    """The worker error of a refused request; RunPod's words are kept."""
    status = response.status_code
    said = f"RunPod {status}: {response.text[:300]}"
    if status == 404:  # the deployment's configuration, not the job's input, is wrong
        return PermanentError(ErrorCode.PROVIDER_AUTH, f"{said} (check RUNPOD_ENDPOINT_ID)")
    return response_error(response, said)
