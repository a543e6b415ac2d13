"""The work of one video attempt: plain async functions, testable without a broker.

The input images are read one at a time, each reduced to what the frames need before the next is
decoded, so a job holds one full-size picture at most (or, with none, one is painted from the
prompt); the clip is rendered and encoded in a thread, and its progress reaches the event stream
as frames are encoded.
Outputs: the MP4 (index 0) and a JPEG poster (index 1), under deterministic keys.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass

from PIL import Image

from darkroom.contracts.assets import AssetDescriptor, JobResult
from darkroom.contracts.requests import VideoJobRequested
from darkroom.media.procedural import paint
from darkroom.runtime.inputs import InputSettings
from darkroom.runtime.job_events import AttemptEvents
from darkroom.runtime.kafka import Emit
from darkroom.runtime.storage import ObjectStore
from darkroom.runtime.worker.inputs import load_input
from darkroom.runtime.worker.outputs import store_output
from darkroom.video_worker.providers import RenderedVideo, render_video, source_size

SOURCES_SHARE = 10  # percent of progress for reading or painting the sources
ENCODE_SHARE = 85  # percent for rendering and encoding the frames; storing takes the rest


@dataclass
class WorkerDeps:
    store: ObjectStore
    emit: Emit
    inputs: InputSettings


async def render_clip(
    request: VideoJobRequested, events: AttemptEvents, deps: WorkerDeps
) -> JobResult:
    """Render the video with progress per batch of encoded frames, store it and its poster."""
    sources = await _sources(request, deps)
    await deps.emit(events.progress(SOURCES_SHARE, f"encoding {request.params.frames} frames"))
    video = await _render(request, sources, events, deps.emit)
    await deps.emit(events.progress(SOURCES_SHARE + ENCODE_SHARE, "storing"))
    return JobResult(assets=await _store(request, video, deps.store))


async def _sources(request: VideoJobRequested, deps: WorkerDeps) -> list[Image.Image]:
    params = request.params
    if params.inputs:
        cover = source_size(params.width, params.height)
        return [
            await load_input(source, deps.store, deps.inputs, cover=cover)
            for source in params.inputs
        ]
    prompt = params.prompt or "darkroom"
    # Painted a little larger than the frame, so the pan-and-zoom never runs out of picture.
    width, height = _even(params.width * 5 // 4), _even(params.height * 5 // 4)
    painted = await asyncio.to_thread(
        paint, prompt, params.negative_prompt, params.seed, 0, width, height
    )
    return [painted]


async def _render(
    request: VideoJobRequested, sources: list[Image.Image], events: AttemptEvents, emit: Emit
) -> RenderedVideo:
    """Render in a thread; its frame counts come back through a queue and go out as progress
    from the event loop (events of one attempt are numbered in one place)."""
    loop = asyncio.get_running_loop()
    done: asyncio.Queue[tuple[int, int] | None] = asyncio.Queue()

    def on_frames(encoded: int, total: int) -> None:
        loop.call_soon_threadsafe(done.put_nowait, (encoded, total))

    async def report() -> None:
        while (item := await done.get()) is not None:
            encoded, total = item
            percent = SOURCES_SHARE + ENCODE_SHARE * encoded // total
            await emit(events.progress(percent, f"frame {encoded}/{total}"))

    params = request.params
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


async def _store(
    request: VideoJobRequested, video: RenderedVideo, store: ObjectStore
) -> list[AssetDescriptor]:
    size = {"width": video.width, "height": video.height}
    clip = await store_output(
        store,
        request.job_id,
        0,
        data=video.mp4,
        content_type="video/mp4",
        extension="mp4",
        duration_s=video.duration_s,
        frames=video.frames,
        **size,
        run=request.request_id,
    )
    poster = await store_output(
        store,
        request.job_id,
        1,
        data=video.poster,
        content_type="image/jpeg",
        extension="jpg",
        **size,
        run=request.request_id,
    )
    return [clip, poster]


def _even(value: int) -> int:
    return value + value % 2
