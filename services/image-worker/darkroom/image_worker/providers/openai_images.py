"""OpenAI Images (`POST /v1/images/generations`) as a provider plug-in: what it declares. The
SDK itself is imported only by a process that builds the provider (openai_client), so the
gateway lists and checks it without loading the SDK."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field, PositiveFloat, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from darkroom.contracts.params import ImageParams
from darkroom.contracts.providers import ProviderInfo, ProviderLimitsInfo
from darkroom.image_worker.providers.base import GeneratedImage, StepCallback, image_model


class OpenAISettings(BaseSettings):
    """OPENAI_API_KEY (required), OPENAI_BASE_URL, OPENAI_ORGANIZATION, OPENAI_TIMEOUT_S."""

    model_config = SettingsConfigDict(env_prefix="OPENAI_", extra="ignore", env_ignore_empty=True)

    api_key: SecretStr = Field(description="OpenAI API key.")
    base_url: str = Field("https://api.openai.com/v1", description="API base URL.")
    organization: str | None = Field(None, description="OpenAI organization id.")
    timeout_s: PositiveFloat = Field(120.0, description="Longest wait for one answer.")


class OpenAIImagesProvider:
    info: ClassVar[ProviderInfo] = ProviderInfo(
        name="openai",
        description="OpenAI Images: gpt-image-1, DALL-E 3 and DALL-E 2.",
        models=[
            image_model("gpt-image-1", 0.042, "GPT Image 1, medium quality, 1024x1024."),
            image_model("dall-e-3", 0.04, "DALL-E 3, standard quality."),
            image_model("dall-e-2", 0.02, "DALL-E 2."),
        ],
        limits=ProviderLimitsInfo(starts_per_s=1.0, concurrency=4, timeout_s=180.0),
    )
    settings_class: ClassVar[type[BaseSettings]] = OpenAISettings

    def __init__(self, settings: OpenAISettings) -> None:
        from darkroom.image_worker.providers.openai_client import OpenAIImages

        self._images = OpenAIImages(settings)

    async def generate_image(
        self, params: ImageParams, on_step: StepCallback
    ) -> list[GeneratedImage]:
        return await self._images.generate(params, on_step)
