"""Replicate's video models: the prompt and the first input image (a data URI, or uploaded when
big) run as a prediction (darkroom.runtime.providers.replicate); the MP4 downloaded through the
SSRF-safe fetcher, described as it is and stored by Darkroom with a poster made here."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from darkroom.contracts.errors import ErrorCode
from darkroom.contracts.params import VideoParams
from darkroom.runtime.inputs import InputSettings
from darkroom.runtime.providers.media import SourceImage, StepCallback
from darkroom.runtime.providers.replicate import ReplicatePredictions, input_file, output_urls
from darkroom.runtime.providers.replicate_settings import ReplicateSettings
from darkroom.runtime.worker.errors import PermanentError, RetryableError
from darkroom.video_worker.providers.base import RenderedVideo
from darkroom.video_worker.providers.remote import MAX_VIDEO_BYTES, download_video


class ReplicateVideos:
    def __init__(self, settings: ReplicateSettings, inputs: InputSettings | None = None) -> None:
        self.predictions = ReplicatePredictions(settings)
        policy = (inputs or InputSettings()).fetch_policy
        self.fetch_policy = replace(policy, max_bytes=max(policy.max_bytes, MAX_VIDEO_BYTES))

    async def generate(
        self, params: VideoParams, images: Sequence[SourceImage], on_step: StepCallback
    ) -> RenderedVideo:
        payload = await minimax_input(params, images)
        output = await self.predictions.run(params.model, payload, on_step)
        urls = output_urls(output)
        if len(urls) != 1:
            raise RetryableError(ErrorCode.PROVIDER_UNAVAILABLE, f"Replicate output: {urls}")
        return await download_video(urls[0], self.fetch_policy, "Replicate output")


async def minimax_input(params: VideoParams, images: Sequence[SourceImage]) -> dict[str, Any]:
    """video-01's input: the prompt (it needs one), the first image as the first frame."""
    if not params.prompt:
        raise PermanentError(
            ErrorCode.INVALID_INPUT,
            f"{params.model} on Replicate makes video from a prompt: give one",
        )
    payload: dict[str, Any] = {"prompt": params.prompt, "prompt_optimizer": True}
    if images:
        payload["first_frame_image"] = input_file(await images[0].encoded())
    return payload
