"""Use case: refuse at submit the inputs a job could not afford, from the sizes the gateway knows.

An upload's or an earlier output's size is in the database, so an upscale whose output would pass
UPSCALE_MAX_OUTPUT_PIXELS, or a video whose inputs together would decode past
INPUT_MAX_JOB_DECODED_BYTES, is a 422 now rather than a failed job later. A URL's size is only
known to the worker that fetches it, which applies the same per-image limits.
"""

from __future__ import annotations

from collections.abc import Sequence

from darkroom.contracts.api import CreateUpscaleJob, ImageRef
from darkroom.contracts.params import InputImage
from darkroom.gateway.errors import InvalidInput
from darkroom.gateway.inputs import LocatedInput, locate_input
from darkroom.runtime.auth import Principal
from darkroom.runtime.db import JobStore
from darkroom.runtime.inputs import HELD_BYTES_PER_PIXEL, JobInputLimits

SMALLEST_SCALE = 2  # of CreateUpscaleJob.scale


async def resolve_upscale_input(
    body: CreateUpscaleJob, user: Principal, store: JobStore, limits: JobInputLimits
) -> InputImage:
    """The upscale's input; InvalidInput when its known size times `scale` is over the limit."""
    source = await locate_input(body.image, user, store, ("body", "image"))
    if source.width is not None and source.height is not None:
        _check_upscale(source.width, source.height, body.scale, limits.upscale_max_output_pixels)
    return source.image


def _check_upscale(width: int, height: int, scale: int, limit: int) -> None:
    pixels = width * height * scale**2
    if pixels <= limit:
        return
    too_many = f"{width}x{height} x{scale} would be {pixels:,} pixels; the limit is {limit:,}"
    if width * height * SMALLEST_SCALE**2 <= limit:  # the scale is what to change
        raise InvalidInput(("body", "scale"), f"{too_many}: use scale {SMALLEST_SCALE}")
    raise InvalidInput(("body", "image", "asset_id"), f"{too_many}: use a smaller image")


async def resolve_video_inputs(
    refs: Sequence[ImageRef], user: Principal, store: JobStore, limits: JobInputLimits
) -> tuple[InputImage, ...]:
    """The video's inputs; InvalidInput when the known ones decode past the per-job budget."""
    located = [
        await locate_input(ref, user, store, ("body", "images", index))
        for index, ref in enumerate(refs)
    ]
    held = sum(_held_bytes(source) for source in located)
    if held > limits.max_job_decoded_bytes:
        raise InvalidInput(
            ("body", "images"),
            f"the images decode to {held:,} bytes together ({HELD_BYTES_PER_PIXEL} bytes a "
            f"pixel); one job's limit is {limits.max_job_decoded_bytes:,}: use fewer or smaller "
            "images",
        )
    return tuple(source.image for source in located)


def _held_bytes(source: LocatedInput) -> int:
    if source.width is None or source.height is None:
        return 0
    return source.width * source.height * HELD_BYTES_PER_PIXEL
