"""Runway (video from an image and a prompt) as a provider plug-in: what it declares and its
settings. The SDK (runwayml) is imported only by a process that builds the provider
(runway_client)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from pydantic import Field, PositiveFloat, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from darkroom.contracts.params import VideoParams
from darkroom.contracts.providers import ProviderInfo, ProviderLimitsInfo
from darkroom.runtime.providers.media import SourceImage, StepCallback
from darkroom.video_worker.providers.base import RenderedVideo, video_model


class RunwaySettings(BaseSettings):
    """RUNWAY_API_KEY (required), RUNWAY_BASE_URL, RUNWAY_POLL_INTERVAL_S,
    RUNWAY_POLL_MAX_INTERVAL_S, RUNWAY_TIMEOUT_S."""

    model_config = SettingsConfigDict(env_prefix="RUNWAY_", extra="ignore", env_ignore_empty=True)

    api_key: SecretStr = Field(description="Runway API key (the developer portal's secret).")
    base_url: str = Field("https://api.dev.runwayml.com", description="API base URL.")
    poll_interval_s: PositiveFloat = Field(
        5.0, description="First wait between two polls of a task (Runway asks for 5 s or more)."
    )
    poll_max_interval_s: PositiveFloat = Field(10.0, description="Longest wait between polls.")
    timeout_s: PositiveFloat = Field(30.0, description="Longest wait for one answer.")


class RunwayProvider:
    info: ClassVar[ProviderInfo] = ProviderInfo(
        name="runway",
        description="Runway: video from an image and a prompt (tasks: create, poll, cancel).",
        models=[
            video_model(
                "gen4_turbo",
                0.05,
                "Gen-4 Turbo: 5 or 10 s at 24 fps, the first input image as its first frame.",
            )
        ],
        limits=ProviderLimitsInfo(starts_per_s=1.0, concurrency=5, timeout_s=600.0),
    )
    settings_class: ClassVar[type[BaseSettings]] = RunwaySettings

    def __init__(self, settings: RunwaySettings) -> None:
        from darkroom.video_worker.providers.runway_client import RunwayVideos

        self._videos = RunwayVideos(settings)

    async def generate_video(
        self, params: VideoParams, images: Sequence[SourceImage], on_step: StepCallback
    ) -> RenderedVideo:
        return await self._videos.generate(params, images, on_step)
