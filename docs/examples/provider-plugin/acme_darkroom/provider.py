"""The `acme` provider: what a plug-in declares and implements.

A real one would call its service here (with httpx or the service's SDK) and map its errors;
this one paints a flat colour picked from the prompt, so that it runs anywhere.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
from typing import ClassVar

from PIL import Image
from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from darkroom.contracts.jobtypes import JobType
from darkroom.contracts.params import ImageParams
from darkroom.contracts.providers import CostUnit, ModelInfo, ProviderInfo, ProviderLimitsInfo
from darkroom.image_worker.providers import GeneratedImage, StepCallback


class AcmeSettings(BaseSettings):
    """Read from the environment: ACME_API_KEY (required: without it the provider is listed by
    GET /v1/models as not configured, and jobs naming it are refused) and ACME_BASE_URL."""

    model_config = SettingsConfigDict(env_prefix="ACME_", extra="ignore")

    api_key: SecretStr = Field(description="The API key (never logged: a SecretStr).")
    base_url: str = Field("https://api.acme.example", description="Where the API is.")


class AcmeProvider:
    info: ClassVar[ProviderInfo] = ProviderInfo(
        name="acme",
        description="Example plug-in: flat colours.",
        models=[
            ModelInfo(
                name="flat-1",
                job_types=[JobType.IMAGE],
                cost_usd=0.01,
                cost_unit=CostUnit.IMAGE,
                description="One flat colour per prompt.",
            )
        ],
        limits=ProviderLimitsInfo(starts_per_s=2, concurrency=2, timeout_s=60),
    )
    settings_class: ClassVar[type[BaseSettings]] = AcmeSettings

    def __init__(self, settings: AcmeSettings) -> None:
        self.settings = settings

    async def generate_image(
        self, params: ImageParams, on_step: StepCallback
    ) -> list[GeneratedImage]:
        """Report progress through `on_step(done, total)`; raise plain exceptions (a timeout, a
        connection error, an HTTP status) and the worker classifies them for retries."""
        colour = tuple(hashlib.sha256(params.prompt.encode()).digest()[:3])
        images = []
        for index in range(params.num_images):
            await asyncio.sleep(0)  # a real provider awaits its service here
            out = io.BytesIO()
            Image.new("RGB", (params.width, params.height), colour).save(out, "PNG")
            images.append(GeneratedImage(out.getvalue(), params.width, params.height, "image/png"))
            await on_step(index + 1, params.num_images)
        return images
