"""The image work of one attempt: plain async functions, testable without a broker.

Starting, timing out, retrying, dead-lettering and the outcome events are the shared worker
machinery's (`darkroom.runtime.worker.attempt`); this module only generates and stores.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass

from darkroom.contracts.assets import AssetDescriptor, JobResult
from darkroom.contracts.errors import ErrorCode
from darkroom.contracts.requests import ImageJobRequested
from darkroom.image_worker.errors import PermanentError, RetryableError
from darkroom.image_worker.providers import GeneratedImage, Provider
from darkroom.runtime.job_events import AttemptEvents
from darkroom.runtime.kafka import Emit
from darkroom.runtime.providers.media import named_provider
from darkroom.runtime.storage import ObjectStore
from darkroom.runtime.worker.outputs import store_output

logger = logging.getLogger(__name__)

GENERATION_SHARE = 90  # percent of progress the generation steps cover; storing takes the rest

EXTENSIONS = {"image/png": "png", "image/webp": "webp", "image/jpeg": "jpg"}


@dataclass
class WorkerDeps:
    providers: Mapping[str, Provider]  # by name: the configured plug-ins serving image jobs
    store: ObjectStore
    emit: Emit  # progress events (pipelined; the outcome waits for their acknowledgement)
    fail_attempts: int = 0  # fault injection: the first N attempts of every job fail (retryable)
    fail_marker: str | None = None  # fault injection: prompts containing it are refused


async def generate_images(
    request: ImageJobRequested, events: AttemptEvents, deps: WorkerDeps
) -> JobResult:
    """Generate the images with progress events, store them, and describe what was stored."""
    if deps.fail_marker and deps.fail_marker in request.params.prompt:
        raise PermanentError(
            ErrorCode.CONTENT_REFUSED, f"injected fault: the prompt contains {deps.fail_marker!r}"
        )

    async def on_step(done: int, total: int) -> None:
        percent = GENERATION_SHARE * done // total
        await deps.emit(events.progress(percent, f"step {done}/{total}"))

    provider = named_provider(deps.providers, request.params.provider)
    images = await provider.generate_image(request.params, on_step)
    if request.attempt <= deps.fail_attempts:
        raise RetryableError(
            ErrorCode.PROVIDER_UNAVAILABLE, f"injected fault: attempt {request.attempt} fails"
        )
    return JobResult(assets=await store_assets(request, images, deps.store))


async def store_assets(
    request: ImageJobRequested, images: list[GeneratedImage], store: ObjectStore
) -> list[AssetDescriptor]:
    """Store each image under its deterministic key (a re-run overwrites, never adds)."""
    return [
        await store_output(
            store,
            request.job_id,
            index,
            data=image.data,
            content_type=image.content_type,
            extension=EXTENSIONS.get(image.content_type, "bin"),
            width=image.width,
            height=image.height,
            run=request.request_id,
        )
        for index, image in enumerate(images)
    ]
