"""The work of one upscale or variants attempt: plain async functions, testable without a broker.

Starting, timing out, retrying, dead-lettering and the outcome events are the shared worker
machinery's (`darkroom.runtime.worker.attempt`); this module reads the input, transforms it off
the event loop, and stores the outputs under deterministic keys (a re-run overwrites).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from darkroom.contracts.assets import AssetDescriptor, JobResult
from darkroom.contracts.requests import UpscaleJobRequested, VariantsJobRequested
from darkroom.runtime.inputs import InputSettings
from darkroom.runtime.job_events import AttemptEvents
from darkroom.runtime.kafka import Emit
from darkroom.runtime.storage import ObjectStore
from darkroom.runtime.worker.inputs import load_input
from darkroom.runtime.worker.outputs import store_output
from darkroom.upscale_worker.providers import EncodedImage, upscale, variants


@dataclass
class WorkerDeps:
    store: ObjectStore
    emit: Emit  # progress events (pipelined; the outcome waits for their acknowledgement)
    inputs: InputSettings
    max_output_pixels: int


async def upscale_image(
    request: UpscaleJobRequested, events: AttemptEvents, deps: WorkerDeps
) -> JobResult:
    """Upscale the input by exactly `scale` and store it."""
    params = request.params
    await deps.emit(events.progress(5, "reading the input"))
    image = await load_input(params.input, deps.store, deps.inputs)
    note = f"upscaling {image.width}x{image.height} by {params.scale}"
    await deps.emit(events.progress(20, note))
    output = await asyncio.to_thread(
        upscale, image, params.scale, params.format, max_output_pixels=deps.max_output_pixels
    )
    await deps.emit(events.progress(90, "storing"))
    return JobResult(assets=[await _store(request, 0, output, deps.store)])


async def make_variants(
    request: VariantsJobRequested, events: AttemptEvents, deps: WorkerDeps
) -> JobResult:
    """The responsive set of the input (each width in each format), stored in that order."""
    params = request.params
    await deps.emit(events.progress(5, "reading the input"))
    image = await load_input(params.input, deps.store, deps.inputs)
    count = len(params.widths) * len(params.formats)
    await deps.emit(events.progress(20, f"making {count} variants"))
    outputs = await asyncio.to_thread(
        variants,
        image,
        params.widths,
        params.formats,  # type: ignore[arg-type]  # validated by the contract
        max_output_pixels=deps.max_output_pixels,
    )
    await deps.emit(events.progress(90, "storing"))
    return JobResult(
        assets=[await _store(request, i, out, deps.store) for i, out in enumerate(outputs)]
    )


async def _store(
    request: UpscaleJobRequested | VariantsJobRequested,
    index: int,
    output: EncodedImage,
    store: ObjectStore,
) -> AssetDescriptor:
    return await store_output(
        store,
        request.job_id,
        index,
        data=output.data,
        content_type=output.content_type,
        extension=output.extension,
        width=output.width,
        height=output.height,
        run=request.request_id,
    )
