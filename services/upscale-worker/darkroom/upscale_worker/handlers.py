"""The work of one upscale or variants attempt: plain async functions, testable without a broker.

Starting, timing out, retrying, dead-lettering and the outcome events are the shared worker
machinery's (`darkroom.runtime.worker.attempt`); this module hands the input to the provider the
job names and stores the outputs under deterministic keys (a re-run overwrites).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from darkroom.contracts.assets import AssetDescriptor, JobResult
from darkroom.contracts.params import InputImage
from darkroom.contracts.requests import UpscaleJobRequested, VariantsJobRequested
from darkroom.runtime.inputs import InputSettings
from darkroom.runtime.job_events import AttemptEvents
from darkroom.runtime.kafka import Emit
from darkroom.runtime.providers.media import SourceImage, named_provider, progress_steps
from darkroom.runtime.storage import ObjectStore
from darkroom.runtime.worker.outputs import store_output
from darkroom.upscale_worker.providers import EncodedImage, Upscaler, VariantMaker

READ_SHARE, WORK_SHARE = 5, 20  # percent before reading the input, and before the transform
STORE_SHARE = 90  # percent when storing begins


@dataclass
class WorkerDeps:
    upscalers: Mapping[str, Upscaler]  # by name: the configured plug-ins serving upscale jobs
    variant_makers: Mapping[str, VariantMaker]  # likewise, variants jobs
    store: ObjectStore
    emit: Emit  # progress events (pipelined; the outcome waits for their acknowledgement)
    inputs: InputSettings

    def source(self, image: InputImage) -> SourceImage:
        return SourceImage(image, self.store, self.inputs)


async def upscale_image(
    request: UpscaleJobRequested, events: AttemptEvents, deps: WorkerDeps
) -> JobResult:
    """Upscale the input by exactly `scale` and store it."""
    params = request.params
    upscaler = named_provider(deps.upscalers, params.provider)
    await deps.emit(events.progress(READ_SHARE, "reading the input"))
    on_step = progress_steps(deps.emit, events, WORK_SHARE, STORE_SHARE)
    output = await upscaler.upscale(params, deps.source(params.input), on_step)
    await deps.emit(events.progress(STORE_SHARE, "storing"))
    return JobResult(assets=[await _store(request, 0, output, deps.store)])


async def make_variants(
    request: VariantsJobRequested, events: AttemptEvents, deps: WorkerDeps
) -> JobResult:
    """The responsive set of the input (each width in each format), stored in that order."""
    params = request.params
    maker = named_provider(deps.variant_makers, params.provider)
    await deps.emit(events.progress(READ_SHARE, "reading the input"))
    on_step = progress_steps(deps.emit, events, WORK_SHARE, STORE_SHARE)
    outputs = await maker.variants(params, deps.source(params.input), on_step)
    await deps.emit(events.progress(STORE_SHARE, "storing"))
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
