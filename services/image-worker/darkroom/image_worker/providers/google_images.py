"""Google's Gemini image models (Nano Banana) on the Gemini API as a provider plug-in: what it
declares. The SDK (google-genai) is imported only by a process that builds the provider
(google_client), so the gateway lists and checks it without loading the SDK."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field, PositiveFloat, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from darkroom.contracts.params import ImageParams
from darkroom.contracts.providers import ProviderInfo, ProviderLimitsInfo
from darkroom.image_worker.providers.base import GeneratedImage, StepCallback, image_model


class GoogleSettings(BaseSettings):
    """GOOGLE_API_KEY (required; the SDK's own name), GOOGLE_BASE_URL, GOOGLE_TIMEOUT_S."""

    model_config = SettingsConfigDict(env_prefix="GOOGLE_", extra="ignore", env_ignore_empty=True)

    api_key: SecretStr = Field(
        description="Gemini API key (Google AI Studio), sent as x-goog-api-key."
    )
    base_url: str = Field(
        "https://generativelanguage.googleapis.com", description="Gemini API base URL."
    )
    timeout_s: PositiveFloat = Field(120.0, description="Longest wait for one image.")


class GoogleProvider:
    info: ClassVar[ProviderInfo] = ProviderInfo(
        name="google",
        description="Google Gemini image models (Nano Banana) on the Gemini API.",
        models=[
            image_model("gemini-2.5-flash-image", 0.039, "Gemini 2.5 Flash Image, 1K."),
            image_model("gemini-3.1-flash-image", 0.067, "Gemini 3.1 Flash Image, 1K."),
            image_model("gemini-3-pro-image", 0.134, "Gemini 3 Pro Image, 1K."),
        ],
        limits=ProviderLimitsInfo(starts_per_s=2.0, concurrency=8, timeout_s=300.0),
    )
    settings_class: ClassVar[type[BaseSettings]] = GoogleSettings

    def __init__(self, settings: GoogleSettings) -> None:
        from darkroom.image_worker.providers.google_client import GeminiImages

        self._images = GeminiImages(settings)

    async def generate_image(
        self, params: ImageParams, on_step: StepCallback
    ) -> list[GeneratedImage]:
        return await self._images.generate(params, on_step)
