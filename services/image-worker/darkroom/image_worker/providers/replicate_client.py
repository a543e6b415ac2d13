"""Replicate's image models: the FLUX input of an image job, run as a prediction (shared with the
other job types: darkroom.runtime.providers.replicate), the outputs downloaded through the
SSRF-safe fetcher (INPUT_FETCH_* settings) and stored by Darkroom."""

from __future__ import annotations

import math
from typing import Any

from darkroom.contracts.params import ImageParams
from darkroom.image_worker.providers.base import GeneratedImage, StepCallback
from darkroom.image_worker.providers.remote import download_image
from darkroom.media.fetch import FetchPolicy
from darkroom.runtime.inputs import InputSettings
from darkroom.runtime.providers.replicate import ReplicatePredictions, output_urls
from darkroom.runtime.providers.replicate_settings import ReplicateSettings

ASPECT_RATIOS = ("1:1", "16:9", "21:9", "3:2", "2:3", "4:5", "5:4", "3:4", "4:3", "9:16", "9:21")


class ReplicateImages:
    def __init__(self, settings: ReplicateSettings, fetch_policy: FetchPolicy | None = None):
        self.predictions = ReplicatePredictions(settings)
        self.fetch_policy = fetch_policy or InputSettings().fetch_policy

    async def generate(self, params: ImageParams, on_step: StepCallback) -> list[GeneratedImage]:
        output = await self.predictions.run(params.model, replicate_input(params), on_step)
        return [
            await download_image(url, self.fetch_policy, "Replicate output")
            for url in output_urls(output)
        ]


def replicate_input(params: ImageParams) -> dict[str, Any]:
    """The input of the FLUX models on Replicate: the aspect ratio nearest the job's shape."""
    wanted = math.log(params.width / params.height)
    ratio = min(ASPECT_RATIOS, key=lambda r: abs(math.log(_value(r)) - wanted))
    return {
        "prompt": params.prompt,
        "aspect_ratio": ratio,
        "num_outputs": params.num_images,
        "seed": params.seed,
        "output_format": "png",
    }


def _value(ratio: str) -> float:
    width, height = ratio.split(":")
    return int(width) / int(height)
