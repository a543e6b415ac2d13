"""The built-in `local` provider of video jobs: Ken Burns clips rendered on this machine's CPU.

The input images are read one at a time, each reduced to what the frames need before the next is
decoded, so a job holds one full-size picture at most (or, with none, one is painted from the
prompt); the clip is rendered and encoded in a thread, its progress reported as frames are
encoded.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from typing import ClassVar

from PIL import Image
from pydantic_settings import BaseSettings, SettingsConfigDict

from darkroom.contracts.params import LOCAL_VIDEO_MODEL, VideoParams
from darkroom.contracts.providers import ProviderInfo
from darkroom.media.procedural import paint
from darkroom.runtime.providers.media import SourceImage, StepCallback
from darkroom.video_worker.providers.base import RenderedVideo, video_model
from darkroom.video_worker.providers.local import render_video, source_size


class LocalVideoSettings(BaseSettings):
    """The local video provider has no settings of its own (always configured)."""

    model_config = SettingsConfigDict(extra="ignore", env_ignore_empty=True)


class LocalProvider:
    """Pan-and-zoom over the inputs, as the worker always rendered them."""

    info: ClassVar[ProviderInfo] = ProviderInfo(
        name="local",
        description="Built in: runs on this machine's CPU, no key needed.",
        models=[
            video_model(
                LOCAL_VIDEO_MODEL,
                0.0,
                "Pan-and-zoom over the input images (or a picture painted from the prompt), "
                "crossfaded, H.264 at the size, rate and length asked.",
            )
        ],
    )
    settings_class: ClassVar[type[BaseSettings]] = LocalVideoSettings

    def __init__(self, settings: LocalVideoSettings | None = None) -> None:
        """Nothing to set up: every render owns what it uses."""

    async def generate_video(
        self, params: VideoParams, images: Sequence[SourceImage], on_step: StepCallback
    ) -> RenderedVideo:
        if params.model != LOCAL_VIDEO_MODEL:
            known = LOCAL_VIDEO_MODEL
            raise ValueError(f"unknown model {params.model!r} for provider 'local'; known: {known}")
        sources = await _sources(params, images)
        await on_step(0, params.frames, f"encoding {params.frames} frames")
        return await _render(params, sources, on_step)


async def _sources(params: VideoParams, images: Sequence[SourceImage]) -> list[Image.Image]:
    if images:
        cover = source_size(params.width, params.height)
        return [await image.picture(cover=cover) for image in images]
    prompt = params.prompt or "darkroom"
    # Painted a little larger than the frame, so the pan-and-zoom never runs out of picture.
    width, height = _even(params.width * 5 // 4), _even(params.height * 5 // 4)
    painted = await asyncio.to_thread(
        paint, prompt, params.negative_prompt, params.seed, 0, width, height
    )
    return [painted]


async def _render(
    params: VideoParams, sources: list[Image.Image], on_step: StepCallback
) -> RenderedVideo:
    """Render in a thread; its frame counts come back through a queue and are reported from the
    event loop (events of one attempt are numbered in one place)."""
    loop = asyncio.get_running_loop()
    done: asyncio.Queue[tuple[int, int] | None] = asyncio.Queue()

    def on_frames(encoded: int, total: int) -> None:
        loop.call_soon_threadsafe(done.put_nowait, (encoded, total))

    async def report() -> None:
        while (item := await done.get()) is not None:
            encoded, total = item
            await on_step(encoded, total, f"frame {encoded}/{total}")

    reporter = asyncio.create_task(report())
    try:
        video = await asyncio.to_thread(
            render_video,
            sources,
            width=params.width,
            height=params.height,
            fps=params.fps,
            duration_s=params.duration_s,
            seed=params.seed,
            on_frames=on_frames,
            report_every=max(8, params.frames // 10),
        )
    except BaseException:
        reporter.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await reporter
        raise
    # The thread's reports were queued before its result arrived: send them all, in order.
    done.put_nowait(None)
    await reporter
    return video


def _even(value: int) -> int:
    return value + value % 2
