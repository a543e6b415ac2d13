"""Replicate's upscale models: the input sent (a data URI, or uploaded when big), run as a
prediction (darkroom.runtime.providers.replicate), the result downloaded through the SSRF-safe
fetcher and stored by Darkroom exactly `scale` times the input, in the format asked."""

from __future__ import annotations

import asyncio
import io
from dataclasses import replace

from PIL import Image

from darkroom.contracts.errors import ErrorCode
from darkroom.contracts.params import UpscaleParams
from darkroom.media.decode import ImageInfo
from darkroom.media.fetch import FetchPolicy
from darkroom.runtime.inputs import InputSettings
from darkroom.runtime.providers.media import SourceImage, StepCallback, download_result
from darkroom.runtime.providers.replicate import ReplicatePredictions, input_file, output_urls
from darkroom.runtime.providers.replicate_settings import ReplicateSettings
from darkroom.runtime.worker.errors import RetryableError
from darkroom.upscale_worker.providers.base import EncodedImage
from darkroom.upscale_worker.providers.local import OutputFormat, encode_upscaled

# Community models run by version (an official one by its name): the version this code was
# written against, so its input and output do not change under it.
VERSIONS = {
    "nightmareai/real-esrgan": "nightmareai/real-esrgan:"
    "f121d640bd286e1fdc67f9799164c1d5be36ff74576ee11c803ae5b665dd46aa",
}
RESULT_BYTES_PER_PIXEL = 4  # a result's download limit: an uncompressed RGBA output's size


class ReplicateUpscaler:
    def __init__(self, settings: ReplicateSettings, inputs: InputSettings | None = None) -> None:
        inputs = inputs or InputSettings()
        self.predictions = ReplicatePredictions(settings)
        self.max_output_pixels = inputs.upscale_max_output_pixels
        self.fetch_policy: FetchPolicy = replace(
            inputs.fetch_policy,
            max_bytes=max(inputs.input_max_bytes, RESULT_BYTES_PER_PIXEL * self.max_output_pixels),
        )

    async def upscale(
        self, params: UpscaleParams, image: SourceImage, on_step: StepCallback
    ) -> EncodedImage:
        encoded = await image.encoded()
        size = _output_size(encoded.info, params.scale, self.max_output_pixels)
        payload = {"image": input_file(encoded), "scale": params.scale, "face_enhance": False}
        model = VERSIONS.get(params.model, params.model)
        output = await self.predictions.run(model, payload, on_step)
        urls = output_urls(output)
        if len(urls) != 1:
            raise RetryableError(ErrorCode.PROVIDER_UNAVAILABLE, f"Replicate output: {urls}")
        data = await download_result(urls[0], self.fetch_policy, "Replicate output")
        return await asyncio.to_thread(as_asked, data, size, params.format)


def _output_size(info: ImageInfo, scale: int, max_output_pixels: int) -> tuple[int, int]:
    width, height = info.width * scale, info.height * scale
    if width * height > max_output_pixels:
        raise ValueError(
            f"Output of {width}x{height} ({width * height} pixels) exceeds the limit of "
            f"{max_output_pixels} pixels."
        )
    return width, height


def as_asked(data: bytes, size: tuple[int, int], fmt: OutputFormat) -> EncodedImage:
    """A hosted upscaler's result as the job asked for it: its own bytes when they already are
    (the size, either way round for an EXIF-turned input, and the format), else re-encoded."""
    try:
        picture: Image.Image = Image.open(io.BytesIO(data))
        found = (picture.format or "").lower(), picture.size
        if found[1] == (size[1], size[0]):
            size = found[1]
        if found == (fmt, size):
            return EncodedImage(data, *size, f"image/{fmt}", fmt)
        picture.load()
    except (OSError, ValueError) as exc:
        raise RetryableError(
            ErrorCode.PROVIDER_UNAVAILABLE, f"Replicate output is not an image: {exc}"
        ) from exc
    if picture.size != size:
        picture = picture.resize(size, Image.Resampling.LANCZOS)
    return encode_upscaled(picture, fmt)
