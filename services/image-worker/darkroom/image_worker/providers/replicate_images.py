"""Replicate predictions as a provider plug-in: what it declares. The SDK is imported only by a
process that builds the provider (replicate_client)."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field, PositiveFloat, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from darkroom.contracts.params import ImageParams
from darkroom.contracts.providers import ProviderInfo, ProviderLimitsInfo
from darkroom.image_worker.providers.base import GeneratedImage, StepCallback, image_model


class ReplicateSettings(BaseSettings):
    """REPLICATE_API_TOKEN (required; the SDK's own name), REPLICATE_BASE_URL,
    REPLICATE_POLL_INTERVAL_S, REPLICATE_POLL_MAX_INTERVAL_S, REPLICATE_TIMEOUT_S."""

    model_config = SettingsConfigDict(
        env_prefix="REPLICATE_", extra="ignore", env_ignore_empty=True
    )

    api_token: SecretStr = Field(description="Replicate API token.")
    base_url: str = Field("https://api.replicate.com", description="API base URL.")
    poll_interval_s: PositiveFloat = Field(0.5, description="First wait between two polls.")
    poll_max_interval_s: PositiveFloat = Field(5.0, description="Longest wait between polls.")
    timeout_s: PositiveFloat = Field(30.0, description="Longest wait for one answer.")


class ReplicateProvider:
    info: ClassVar[ProviderInfo] = ProviderInfo(
        name="replicate",
        description="Replicate: predictions of hosted models (create, poll, cancel).",
        models=[
            image_model("black-forest-labs/flux-schnell", 0.003, "FLUX.1 [schnell] on Replicate."),
            image_model("black-forest-labs/flux-dev", 0.025, "FLUX.1 [dev] on Replicate."),
        ],
        limits=ProviderLimitsInfo(starts_per_s=5.0, concurrency=8, timeout_s=300.0),
    )
    settings_class: ClassVar[type[BaseSettings]] = ReplicateSettings

    def __init__(self, settings: ReplicateSettings) -> None:
        from darkroom.image_worker.providers.replicate_client import ReplicatePredictions

        self._predictions = ReplicatePredictions(settings)

    async def generate_image(
        self, params: ImageParams, on_step: StepCallback
    ) -> list[GeneratedImage]:
        return await self._predictions.generate(params, on_step)
