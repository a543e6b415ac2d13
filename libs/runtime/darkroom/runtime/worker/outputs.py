"""Storing a job's outputs: the `index`-th output of a run has a deterministic key, so a re-run of
the same request overwrites it instead of adding one, a superseded run never touches the files
of the run that replaced it, and each is described by what was written."""

from __future__ import annotations

import uuid

from darkroom.contracts.assets import AssetDescriptor
from darkroom.runtime.storage import ObjectStore, asset_key


async def store_output(
    store: ObjectStore,
    job_id: uuid.UUID,
    index: int,
    *,
    data: bytes,
    content_type: str,
    extension: str,
    width: int,
    height: int,
    duration_s: float | None = None,
    frames: int | None = None,
    run: uuid.UUID | None = None,
) -> AssetDescriptor:
    """Store one output under `jobs/<job id>/<run>/<index>.<extension>` and describe it."""
    stored = await store.put(asset_key(job_id, index, extension, run), data, content_type)
    return AssetDescriptor(
        key=stored.key,
        content_type=stored.content_type,
        width=width,
        height=height,
        bytes=stored.bytes,
        sha256=stored.sha256,
        duration_s=duration_s,
        frames=frames,
    )
