"""What the providers of upscale, variants and video jobs share with their workers: the progress
callback, a job's input image as a provider reads it (bytes to send, or a decoded picture), the
provider a job names, and result downloads through the SSRF-safe fetcher."""

from __future__ import annotations

import asyncio
import base64
import io
from collections.abc import Awaitable, Mapping
from dataclasses import dataclass
from typing import Protocol, TypeVar

from PIL import Image

from darkroom.contracts.errors import ErrorCode
from darkroom.contracts.params import InputImage
from darkroom.media.decode import ImageInfo, ImageRejected, probe_image
from darkroom.media.fetch import FetchFailed, FetchPolicy, FetchRefused, fetch_url
from darkroom.runtime.inputs import InputSettings
from darkroom.runtime.job_events import AttemptEvents
from darkroom.runtime.kafka import Emit
from darkroom.runtime.storage import ObjectStore
from darkroom.runtime.worker.errors import PermanentError, RetryableError
from darkroom.runtime.worker.inputs import load_input, read_input

P = TypeVar("P")
REDUCED_QUALITY = 90  # JPEG quality of an input reduced to fit a provider's size limit


class StepCallback(Protocol):
    """Awaited as a provider's work advances: `done` of `total` (never decreasing, the first call
    early) and, optionally, what it is doing in a few words (the progress event's message)."""

    def __call__(self, done: int, total: int, note: str | None = None) -> Awaitable[None]: ...


@dataclass(frozen=True)
class EncodedInput:
    """An input image's bytes as stored or fetched, with what its header says."""

    data: bytes
    info: ImageInfo

    def data_uri(self) -> str:
        return f"data:{self.info.content_type};base64,{base64.b64encode(self.data).decode()}"


@dataclass(frozen=True)
class SourceImage:
    """A job's input image, read when its provider asks: encoded (what a hosted provider uploads or
    sends as a data URI) or decoded (what work on this machine transforms), the input limits and
    the SSRF rules applied either way."""

    source: InputImage
    store: ObjectStore
    settings: InputSettings

    async def encoded(self) -> EncodedInput:
        """The bytes, identified as PNG, JPEG or WebP within the limits (refused otherwise)."""
        data = await read_input(self.source, self.store, self.settings)
        try:
            info = await asyncio.to_thread(probe_image, data, self.settings.image_limits)
        except ImageRejected as exc:
            raise PermanentError(ErrorCode.INPUT_REFUSED, f"input image refused: {exc}") from exc
        return EncodedInput(data, info)

    async def picture(self, *, cover: tuple[int, int] | None = None) -> Image.Image:
        """Decoded (off the event loop); with `cover`, reduced to what covers that size."""
        return await load_input(self.source, self.store, self.settings, cover=cover)

    async def data_uri(self, max_bytes: int, cover: tuple[int, int]) -> str:
        """A data URI of the input; one over `max_bytes` (a provider's limit) is sent reduced to
        cover `cover`, as JPEG."""
        encoded = await self.encoded()
        uri = encoded.data_uri()
        if len(uri) <= max_bytes:
            return uri
        picture = await self.picture(cover=cover)
        data = await asyncio.to_thread(_jpeg, picture)
        return f"data:image/jpeg;base64,{base64.b64encode(data).decode()}"


def _jpeg(picture: Image.Image) -> bytes:
    out = io.BytesIO()
    picture.convert("RGB").save(out, "JPEG", quality=REDUCED_QUALITY)
    return out.getvalue()


def named_provider(providers: Mapping[str, P], name: str) -> P:
    """The configured provider a job names; one this worker lacks fails the attempt as retryable
    (the gateway has it configured: another worker may)."""
    provider = providers.get(name)
    if provider is None:
        raise RetryableError(
            ErrorCode.PROVIDER_UNAVAILABLE,
            f"provider {name!r} is not configured on this worker (configured: {sorted(providers)})",
        )
    return provider


async def download_result(url: str, policy: FetchPolicy, what: str) -> bytes:
    """A provider's result at `url`, without the provider's key. A refused URL (expired, or an
    address the policy refuses) or a failed download is retryable: a new attempt makes a new
    result."""
    try:
        return await fetch_url(url, policy)
    except (FetchRefused, FetchFailed) as exc:
        raise RetryableError(ErrorCode.PROVIDER_UNAVAILABLE, f"{what}: {exc}") from exc


def progress_steps(emit: Emit, events: AttemptEvents, start: int, end: int) -> StepCallback:
    """A provider's steps as the attempt's progress events, from `start` to `end` percent; each
    says the provider's note, or `step <done>/<total>`."""

    async def on_step(done: int, total: int, note: str | None = None) -> None:
        percent = start + (end - start) * min(done, total) // max(total, 1)
        await emit(events.progress(percent, note or f"step {done}/{total}"))

    return on_step
