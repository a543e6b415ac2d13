"""Replicate predictions as a provider plug-in for upscale jobs: what it declares. The SDK is
imported only by a process that builds the provider (replicate_client); the image and video
models are the other workers' plug-ins of the same name and settings."""

from __future__ import annotations

from typing import ClassVar

from pydantic_settings import BaseSettings

from darkroom.contracts.jobtypes import JobType
from darkroom.contracts.params import UpscaleParams
from darkroom.contracts.providers import CostUnit, ProviderInfo
from darkroom.runtime.providers.media import SourceImage, StepCallback
from darkroom.runtime.providers.replicate_settings import ReplicateSettings, replicate_info
from darkroom.upscale_worker.providers.base import EncodedImage, transform_model


class ReplicateUpscaleProvider:
    info: ClassVar[ProviderInfo] = replicate_info(
        [
            transform_model(
                "nightmareai/real-esrgan",
                JobType.UPSCALE,
                0.0025,
                "Real-ESRGAN on Replicate: a GAN that restores detail as it enlarges.",
                CostUnit.RUN,
            )
        ]
    )
    settings_class: ClassVar[type[BaseSettings]] = ReplicateSettings

    def __init__(self, settings: ReplicateSettings) -> None:
        from darkroom.upscale_worker.providers.replicate_client import ReplicateUpscaler

        self._upscaler = ReplicateUpscaler(settings)

    async def upscale(
        self, params: UpscaleParams, image: SourceImage, on_step: StepCallback
    ) -> EncodedImage:
        return await self._upscaler.upscale(params, image, on_step)
