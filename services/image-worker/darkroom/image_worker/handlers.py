"""Handling of image requests: plain async functions, testable without a broker."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from pydantic import ValidationError

from darkroom.contracts.assets import AssetDescriptor, JobResult
from darkroom.contracts.jobtypes import JobType
from darkroom.contracts.requests import ImageJobRequested
from darkroom.image_worker.errors import classify
from darkroom.image_worker.providers import GeneratedImage, Provider
from darkroom.runtime.job_events import AttemptEvents
from darkroom.runtime.kafka import Emit, EmitFailed
from darkroom.runtime.storage import ObjectStore, asset_key

logger = logging.getLogger(__name__)

GENERATION_SHARE = 90  # percent of progress the generation steps cover; storing takes the rest

EXTENSIONS = {"image/png": "png", "image/webp": "webp", "image/jpeg": "jpg"}


@dataclass
class WorkerDeps:
    provider: Provider
    store: ObjectStore
    emit: Emit  # returns once the broker acknowledged the event
    worker_id: str


def decode_request(payload: bytes) -> ImageJobRequested | None:
    """The request in a message, or None for a message that is not one (logged, then skipped).

    Poison must never be redelivered forever: it would block its partition. Dead-lettering it
    is the job of the retry machinery; until then it is logged with its size and errors.
    """
    try:
        return ImageJobRequested.model_validate_json(payload)
    except ValidationError as exc:
        logger.error(
            "skipping malformed image request (%d bytes): %s", len(payload), exc.errors()[:3]
        )
        return None


async def handle_image_requested(request: ImageJobRequested, deps: WorkerDeps) -> None:
    """Run one attempt; every outcome becomes an event before this returns (then the offset commits)."""
    events = AttemptEvents(request, JobType.IMAGE)
    log = {"job_id": str(request.job_id), "attempt": request.attempt}
    logger.info("job %s started", request.job_id, extra=log)
    await deps.emit(events.started(deps.worker_id))

    async def on_step(done: int, total: int) -> None:
        percent = GENERATION_SHARE * done // total
        await deps.emit(events.progress(percent, f"step {done}/{total}"))

    try:
        images = await deps.provider.generate(request.params, on_step)
        assets = await store_assets(request, images, deps.store)
    except EmitFailed:
        raise
    except Exception as exc:
        error = classify(exc)
        logger.error("job %s failed: %s", request.job_id, error, extra=log, exc_info=True)
        await deps.emit(events.failed(error.code, str(error), error.retryable))
        return
    await deps.emit(events.completed(JobResult(assets=assets)))
    logger.info("job %s completed", request.job_id, extra=log)


async def store_assets(
    request: ImageJobRequested, images: list[GeneratedImage], store: ObjectStore
) -> list[AssetDescriptor]:
    """Store each image under its deterministic key (a re-run overwrites, never adds)."""
    assets = []
    for index, image in enumerate(images):
        key = asset_key(request.job_id, index, EXTENSIONS.get(image.content_type, "bin"))
        stored = await store.put(key, image.data, image.content_type)
        assets.append(
            AssetDescriptor(
                key=stored.key,
                content_type=stored.content_type,
                width=image.width,
                height=image.height,
                bytes=stored.bytes,
                sha256=stored.sha256,
            )
        )
    return assets
