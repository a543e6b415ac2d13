"""Replicate predictions as a provider plug-in for image jobs: what it declares. The SDK is
imported only by a process that builds the provider (replicate_client). Its upscale and video
models are plug-ins of the upscale and video workers, under the same name and settings."""

from __future__ import annotations

from typing import ClassVar

from pydantic_settings import BaseSettings

from darkroom.contracts.params import ImageParams
from darkroom.contracts.providers import ProviderInfo
from darkroom.image_worker.providers.base import GeneratedImage, StepCallback, image_model
from darkroom.runtime.providers.replicate_settings import ReplicateSettings, replicate_info

__all__ = ["ReplicateProvider", "ReplicateSettings"]


class ReplicateProvider:
    info: ClassVar[ProviderInfo] = replicate_info(
        [
            image_model("black-forest-labs/flux-schnell", 0.003, "FLUX.1 [schnell] on Replicate."),
            image_model("black-forest-labs/flux-dev", 0.025, "FLUX.1 [dev] on Replicate."),
        ]
    )
    settings_class: ClassVar[type[BaseSettings]] = ReplicateSettings

    def __init__(self, settings: ReplicateSettings) -> None:
        from darkroom.image_worker.providers.replicate_client import ReplicateImages

        self._images = ReplicateImages(settings)

    async def generate_image(
        self, params: ImageParams, on_step: StepCallback
    ) -> list[GeneratedImage]:
        return await self._images.generate(params, on_step)
