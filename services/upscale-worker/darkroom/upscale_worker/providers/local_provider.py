"""The built-in `local` provider of upscale and variants jobs: Lanczos on this machine's CPU
(local), off the event loop. Its only setting is the input settings' UPSCALE_MAX_OUTPUT_PIXELS."""

from __future__ import annotations

import asyncio
from typing import ClassVar

from pydantic_settings import BaseSettings

from darkroom.contracts.jobtypes import JobType
from darkroom.contracts.params import (
    LOCAL_UPSCALE_MODEL,
    LOCAL_VARIANTS_MODEL,
    UpscaleParams,
    VariantsParams,
)
from darkroom.contracts.providers import CostUnit, ProviderInfo
from darkroom.runtime.inputs import InputSettings
from darkroom.runtime.providers.media import SourceImage, StepCallback
from darkroom.upscale_worker.providers.base import EncodedImage, transform_model
from darkroom.upscale_worker.providers.local import VariantFormat, upscale, variants


class LocalProvider:
    """Exact-factor upscales and responsive variants, as the worker always made them."""

    info: ClassVar[ProviderInfo] = ProviderInfo(
        name="local",
        description="Built in: runs on this machine's CPU, no key needed.",
        models=[
            transform_model(
                LOCAL_UPSCALE_MODEL,
                JobType.UPSCALE,
                0.0,
                "Lanczos resampling and a mild unsharp mask, exactly 2 or 4 times.",
                CostUnit.MEGAPIXEL,
            ),
            transform_model(
                LOCAL_VARIANTS_MODEL,
                JobType.VARIANTS,
                0.0,
                "The responsive set: each width in WebP and AVIF, Lanczos resampled.",
                CostUnit.RUN,
            ),
        ],
    )
    settings_class: ClassVar[type[BaseSettings]] = InputSettings

    def __init__(self, settings: InputSettings) -> None:
        self.max_output_pixels = settings.upscale_max_output_pixels

    async def upscale(
        self, params: UpscaleParams, image: SourceImage, on_step: StepCallback
    ) -> EncodedImage:
        _check_model(params.model, LOCAL_UPSCALE_MODEL)
        picture = await image.picture()
        await on_step(0, 1, f"upscaling {picture.width}x{picture.height} by {params.scale}")
        return await asyncio.to_thread(
            upscale,
            picture,
            params.scale,
            params.format,
            max_output_pixels=self.max_output_pixels,
        )

    async def variants(
        self, params: VariantsParams, image: SourceImage, on_step: StepCallback
    ) -> list[EncodedImage]:
        _check_model(params.model, LOCAL_VARIANTS_MODEL)
        picture = await image.picture()
        count = len(params.widths) * len(params.formats)
        await on_step(0, 1, f"making {count} variants")
        formats: tuple[VariantFormat, ...] = params.formats  # type: ignore[assignment]  # validated by the contract
        return await asyncio.to_thread(
            variants, picture, params.widths, formats, max_output_pixels=self.max_output_pixels
        )


def _check_model(model: str, known: str) -> None:
    if model != known:
        raise ValueError(f"unknown model {model!r} for provider 'local'; known: {known}")
