"""Reading a job's input image: from the object store, or from a URL under the SSRF rules;
decoded with the pixel and decoded-bytes limits checked first, and reduced to what its use needs
when the caller says. Failures become worker errors with their codes."""

from __future__ import annotations

import asyncio

from PIL import Image

from darkroom.contracts.errors import ErrorCode
from darkroom.contracts.params import InputImage
from darkroom.media.decode import ImageRejected, load_image
from darkroom.media.fetch import FetchFailed, FetchRefused, fetch_url
from darkroom.runtime.inputs import InputSettings
from darkroom.runtime.storage import ObjectNotFound, ObjectStore
from darkroom.runtime.worker.errors import PermanentError, RetryableError


async def read_input(source: InputImage, store: ObjectStore, settings: InputSettings) -> bytes:
    """The input's bytes. A refused URL, a missing asset: permanent; a URL that did not answer
    in time or answered 5xx: retryable."""
    if source.key is not None:
        try:
            return await store.get(source.key)
        except ObjectNotFound as exc:
            name = source.asset_id or source.key
            raise PermanentError(ErrorCode.INPUT_REFUSED, f"input {name} is gone") from exc
    assert source.url is not None
    try:
        return await fetch_url(source.url, settings.fetch_policy)
    except FetchRefused as exc:
        raise PermanentError(ErrorCode.INPUT_REFUSED, f"input URL: {exc}") from exc
    except FetchFailed as exc:
        raise RetryableError(ErrorCode.INPUT_UNAVAILABLE, f"input URL: {exc}") from exc


async def load_input(
    source: InputImage,
    store: ObjectStore,
    settings: InputSettings,
    *,
    cover: tuple[int, int] | None = None,
) -> Image.Image:
    """The input, decoded (off the event loop): PNG, JPEG or WebP within the limits, or refused.

    With `cover`, reduced to the smallest size that still covers it (see `load_image`).
    """
    data = await read_input(source, store, settings)
    try:
        return await asyncio.to_thread(load_image, data, settings.image_limits, cover=cover)
    except ImageRejected as exc:
        raise PermanentError(ErrorCode.INPUT_REFUSED, f"input image refused: {exc}") from exc
