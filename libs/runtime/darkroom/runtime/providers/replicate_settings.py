"""What Replicate's plug-ins in every worker (image, upscale, video jobs) share: settings and how
the provider describes itself. The gateway reads them without the SDK, to list the provider."""

from __future__ import annotations

from pydantic import Field, PositiveFloat, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from darkroom.contracts.providers import ModelInfo, ProviderInfo, ProviderLimitsInfo


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


def replicate_info(models: list[ModelInfo], timeout_s: float = 300.0) -> ProviderInfo:
    """What a Replicate plug-in declares: its models (of one worker's job types) beside the
    description and limits every one of them shares (a video takes longer: `timeout_s`)."""
    return ProviderInfo(
        name="replicate",
        description="Replicate: predictions of hosted models (create, poll, cancel).",
        models=models,
        limits=ProviderLimitsInfo(starts_per_s=5.0, concurrency=8, timeout_s=timeout_s),
    )
