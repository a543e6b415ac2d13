"""What every upscale and variants provider offers the worker: ports, tested with fakes in the
handler tests. A provider reads the job's input through `SourceImage` (encoded bytes to send, or
a decoded picture) and reports progress through `StepCallback`
(darkroom.runtime.providers.media)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from darkroom.contracts.jobtypes import JobType
from darkroom.contracts.params import UpscaleParams, VariantsParams
from darkroom.contracts.providers import CostUnit, ModelInfo
from darkroom.runtime.providers.media import SourceImage, StepCallback


@dataclass(frozen=True)
class EncodedImage:
    """One encoded output image, ready to store."""

    data: bytes
    width: int
    height: int
    content_type: str
    extension: str


class Upscaler(Protocol):
    """A provider plug-in serving upscale jobs: the input enlarged exactly `params.scale` times,
    encoded as `params.format`."""

    async def upscale(
        self, params: UpscaleParams, image: SourceImage, on_step: StepCallback
    ) -> EncodedImage: ...


class VariantMaker(Protocol):
    """A provider plug-in serving variants jobs: each width in each format, in that order."""

    async def variants(
        self, params: VariantsParams, image: SourceImage, on_step: StepCallback
    ) -> list[EncodedImage]: ...


def transform_model(
    name: str, job_type: JobType, cost_usd: float, description: str, unit: CostUnit
) -> ModelInfo:
    """A model serving one image transform job type (how a provider plug-in lists its models)."""
    return ModelInfo(
        name=name, job_types=[job_type], cost_usd=cost_usd, cost_unit=unit, description=description
    )
