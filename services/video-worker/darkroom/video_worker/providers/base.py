"""What every video provider offers the worker: a port, tested with fakes in the handler tests.
A provider reads the job's input images through `SourceImage` (encoded bytes to send, or decoded
pictures) and reports progress through `StepCallback` (darkroom.runtime.providers.media)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from darkroom.contracts.jobtypes import JobType
from darkroom.contracts.params import VideoParams
from darkroom.contracts.providers import CostUnit, ModelInfo
from darkroom.runtime.providers.media import SourceImage, StepCallback


@dataclass(frozen=True)
class RenderedVideo:
    """An encoded MP4 (H.264) plus a JPEG poster of its middle frame, described as made."""

    mp4: bytes
    poster: bytes
    width: int
    height: int
    fps: int
    frames: int
    duration_s: float


class VideoProvider(Protocol):
    """A provider plug-in serving video jobs: a clip from the prompt, the input images (in
    order), or both. A hosted one may make its own size, rate and length (the job's are what was
    asked): the stored video is described as it is."""

    async def generate_video(
        self, params: VideoParams, images: Sequence[SourceImage], on_step: StepCallback
    ) -> RenderedVideo: ...


def video_model(name: str, cost_usd: float, description: str) -> ModelInfo:
    """A model serving video jobs, priced per second of video (how a plug-in lists its models)."""
    return ModelInfo(
        name=name,
        job_types=[JobType.VIDEO],
        cost_usd=cost_usd,
        cost_unit=CostUnit.SECOND,
        description=description,
    )
