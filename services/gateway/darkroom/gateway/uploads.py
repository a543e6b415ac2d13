"""Use case: accept an uploaded image. Its format is sniffed from the content; its size, pixel
count and decoded bytes are checked before anything is decoded (decompression bombs are refused),
then it is decoded once, so a file whose pixel data is broken is refused here, not in a worker."""

from __future__ import annotations

import asyncio
import uuid

from starlette.datastructures import UploadFile

from darkroom.contracts.envelope import utcnow
from darkroom.gateway.errors import UploadRejected
from darkroom.media.decode import ImageRejected, verify_image
from darkroom.runtime.auth import Principal
from darkroom.runtime.db import JobStore
from darkroom.runtime.db.uploads import UploadRecord
from darkroom.runtime.inputs import InputSettings
from darkroom.runtime.storage import ObjectStore

CHUNK = 1024 * 1024
STATUS = {
    "too_large": 413,
    "unsupported_format": 415,
    "too_many_pixels": 422,
    "too_many_decoded_bytes": 422,
    "corrupt": 422,
}


async def accept_upload(
    file: UploadFile,
    user: Principal,
    store: JobStore,
    objects: ObjectStore,
    settings: InputSettings,
) -> UploadRecord:
    """Store the image and its record; UploadRejected (413, 415 or 422) says why not."""
    data = await read_at_most(file, settings.input_max_bytes)
    try:
        info = await asyncio.to_thread(verify_image, data, settings.image_limits)
    except ImageRejected as exc:
        raise UploadRejected(STATUS.get(exc.reason, 422), str(exc)) from exc
    asset_id = uuid.uuid4()
    stored = await objects.put(f"uploads/{asset_id}.{info.extension}", data, info.content_type)
    upload = UploadRecord(
        asset_id=asset_id,
        user_id=user.user_id,
        key=stored.key,
        content_type=info.content_type,
        width=info.width,
        height=info.height,
        bytes=stored.bytes,
        sha256=stored.sha256,
        created_at=utcnow(),
    )
    await store.uploads.create(upload)
    return upload


async def read_at_most(file: UploadFile, limit: int) -> bytes:
    """The file's bytes; 413 as soon as it passes `limit` (the rest is never read)."""
    chunks, size = [], 0
    while chunk := await file.read(CHUNK):
        size += len(chunk)
        if size > limit:
            raise UploadRejected(413, f"the file is larger than {limit:,} bytes")
        chunks.append(chunk)
    if not size:
        raise UploadRejected(422, "the file is empty")
    return b"".join(chunks)
