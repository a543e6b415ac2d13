"""Replicate predictions as a provider plug-in for video jobs: what it declares. The SDK is
imported only by a process that builds the provider (replicate_client); the image and upscale
models are the other workers' plug-ins of the same name and settings."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from pydantic_settings import BaseSettings

from darkroom.contracts.params import VideoParams
from darkroom.contracts.providers import ProviderInfo
from darkroom.runtime.providers.media import SourceImage, StepCallback
from darkroom.runtime.providers.replicate_settings import ReplicateSettings, replicate_info
from darkroom.video_worker.providers.base import RenderedVideo, video_model


class ReplicateVideoProvider:
    info: ClassVar[ProviderInfo] = replicate_info(
        [
            video_model(
                "minimax/video-01",
                0.083,
                "MiniMax Hailuo video-01 on Replicate: about 6 s of 720p at 25 fps from the "
                "prompt, the first input image (if any) as its first frame.",
            )
        ],
        timeout_s=600.0,  # MiniMax takes 3 to 5 minutes a video
    )
    settings_class: ClassVar[type[BaseSettings]] = ReplicateSettings

    def __init__(self, settings: ReplicateSettings) -> None:
        from darkroom.video_worker.providers.replicate_client import ReplicateVideos

        self._videos = ReplicateVideos(settings)

    async def generate_video(
        self, params: VideoParams, images: Sequence[SourceImage], on_step: StepCallback
    ) -> RenderedVideo:
        return await self._videos.generate(params, images, on_step)
