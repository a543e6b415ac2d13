"""Black Forest Labs FLUX (`api.bfl.ai`): submit a task, poll it with backoff, fetch the result.

BFL makes one image per task, so a job of n images is n tasks (seeds seed, seed+1, …) run at
once. A finished task's `result.sample` is a signed URL valid for minutes: it is downloaded at
once through the same SSRF-safe fetcher as input URLs (INPUT_FETCH_* settings) and stored by
Darkroom, so no asset points at BFL. BFL has no cancel: a cancelled job stops polling.
"""

from __future__ import annotations

import asyncio
from typing import Any, ClassVar

import httpx
from pydantic import Field, PositiveFloat, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from darkroom.contracts.errors import ErrorCode
from darkroom.contracts.params import MAX_SEED, ImageParams
from darkroom.contracts.providers import ProviderInfo, ProviderLimitsInfo
from darkroom.image_worker.providers.base import GeneratedImage, StepCallback, image_model
from darkroom.image_worker.providers.remote import download_image
from darkroom.media.fetch import FetchPolicy
from darkroom.runtime.inputs import InputSettings
from darkroom.runtime.providers.answers import json_object, response_error, send
from darkroom.runtime.worker.errors import PermanentError, RetryableError, WorkerError

MIN_SIDE, MAX_SIDE, SIDE_STEP = 256, 1440, 32
MODERATED = {"Content Moderated", "Request Moderated"}
FAILED = {"Error", "Failed", "Task not found"}


class BflSettings(BaseSettings):
    """BFL_API_KEY (required), BFL_BASE_URL, BFL_POLL_INTERVAL_S, BFL_POLL_MAX_INTERVAL_S,
    BFL_TIMEOUT_S."""

    model_config = SettingsConfigDict(env_prefix="BFL_", extra="ignore", env_ignore_empty=True)

    api_key: SecretStr = Field(description="BFL API key (the x-key header).")
    base_url: str = Field("https://api.bfl.ai", description="API base URL (or a regional one).")
    poll_interval_s: PositiveFloat = Field(0.5, description="First wait between two polls.")
    poll_max_interval_s: PositiveFloat = Field(5.0, description="Longest wait between polls.")
    timeout_s: PositiveFloat = Field(30.0, description="Longest wait for one answer.")


class BflProvider:
    info: ClassVar[ProviderInfo] = ProviderInfo(
        name="bfl",
        description="Black Forest Labs FLUX: submit, poll, fetch.",
        models=[
            image_model("flux-pro-1.1", 0.04, "FLUX1.1 [pro]."),
            image_model("flux-dev", 0.025, "FLUX.1 [dev]."),
        ],
        limits=ProviderLimitsInfo(starts_per_s=2.0, concurrency=8, timeout_s=300.0),
    )
    settings_class: ClassVar[type[BaseSettings]] = BflSettings

    def __init__(self, settings: BflSettings, fetch_policy: FetchPolicy | None = None) -> None:
        self.settings = settings
        self.fetch_policy = fetch_policy or InputSettings().fetch_policy
        self.client = httpx.AsyncClient(
            base_url=settings.base_url,
            headers={"x-key": settings.api_key.get_secret_value(), "accept": "application/json"},
            timeout=settings.timeout_s,
        )

    async def generate_image(
        self, params: ImageParams, on_step: StepCallback
    ) -> list[GeneratedImage]:
        total, done = params.num_images + 1, 1
        await on_step(done, total)

        async def one(index: int) -> GeneratedImage:
            nonlocal done
            image = await self._task(params, (params.seed + index) % (MAX_SEED + 1))
            done += 1
            await on_step(done, total)
            return image

        return list(await asyncio.gather(*(one(i) for i in range(params.num_images))))

    async def _task(self, params: ImageParams, seed: int) -> GeneratedImage:
        body = {
            "prompt": params.prompt,
            "width": bfl_side(params.width),
            "height": bfl_side(params.height),
            "seed": seed,
            "output_format": "png",
        }
        task = await self._call("POST", f"/v1/{params.model}", json=body)
        polling_url = self._polling_url(task)
        sample = await self._poll(polling_url)
        return await download_image(sample, self.fetch_policy, "BFL result")

    def _polling_url(self, task: dict[str, Any]) -> str:
        """The task's polling URL if it is on BFL's own domain (it may name a regional host; the
        key goes with every poll), else the result endpoint of the base URL."""
        fallback = f"/v1/get_result?id={task['id']}"
        given = task.get("polling_url")
        if not isinstance(given, str):
            return fallback
        host, base = httpx.URL(given).host, self.client.base_url.host
        domain = ".".join(base.split(".")[-2:])
        return given if host == base or host.endswith(f".{domain}") else fallback

    async def _poll(self, polling_url: str) -> str:
        wait = self.settings.poll_interval_s
        while True:
            answer = await self._call("GET", polling_url)
            status = answer.get("status")
            if status == "Ready":
                return str(answer["result"]["sample"])
            if status in MODERATED:
                raise PermanentError(
                    ErrorCode.CONTENT_REFUSED, f"BFL: {status}: {_details(answer)}"
                )
            if status in FAILED:
                raise RetryableError(
                    ErrorCode.PROVIDER_UNAVAILABLE, f"BFL: {status}: {_details(answer)}"
                )
            await asyncio.sleep(wait)  # Pending (or a status BFL adds later)
            wait = min(wait * 1.5, self.settings.poll_max_interval_s)

    async def _call(self, method: str, url: str, **kwargs: Any) -> dict[str, Any]:
        response = await send(self.client, "BFL", method, url, **kwargs)
        if response.is_success:
            return json_object(response, "BFL")
        raise bfl_error(response)


def bfl_side(pixels: int) -> int:
    """A side BFL takes: a multiple of 32 within 256-1440, nearest to the one asked."""
    return max(MIN_SIDE, min(MAX_SIDE, round(pixels / SIDE_STEP) * SIDE_STEP))


def _details(answer: dict[str, Any]) -> str:
    return str(answer.get("details") or answer.get("result") or "no details")[:300]


def bfl_error(response: httpx.Response) -> WorkerError:
    """The worker error of a refused request; BFL's own words are kept."""
    status = response.status_code
    said = f"BFL {status}: {response.text[:300]}"
    if status == 402:  # out of credits: retried, then dead-lettered for a redrive once topped up
        return RetryableError(ErrorCode.PROVIDER_UNAVAILABLE, said)
    return response_error(response, said)
