"""The work of one video attempt: plain async functions, testable without a broker.

The provider the job names makes the clip (reading the inputs itself, through `SourceImage`), its
progress reaching the event stream as it goes; this module stores what it made.
Outputs: the MP4 (index 0) and a JPEG poster (index 1), under deterministic keys.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from darkroom.contracts.assets import AssetDescriptor, JobResult
from darkroom.contracts.requests import VideoJobRequested
from darkroom.runtime.inputs import InputSettings
from darkroom.runtime.job_events import AttemptEvents
from darkroom.runtime.kafka import Emit
from darkroom.runtime.providers.media import SourceImage, named_provider, progress_steps
from darkroom.runtime.storage import ObjectStore
from darkroom.runtime.worker.outputs import store_output
from darkroom.video_worker.providers import RenderedVideo, VideoProvider

SOURCES_SHARE = 10  # percent of progress for reading or painting the sources
ENCODE_SHARE = 85  # percent for making the clip; storing takes the rest


@dataclass
class WorkerDeps:
    providers: Mapping[str, VideoProvider]  # by name: the configured plug-ins serving video jobs
    store: ObjectStore
    emit: Emit
    inputs: InputSettings


async def render_clip(
    request: VideoJobRequested, events: AttemptEvents, deps: WorkerDeps
) -> JobResult:
    """Make the video with progress events, store it and its poster."""
    params = request.params
    provider = named_provider(deps.providers, params.provider)
    images = [SourceImage(source, deps.store, deps.inputs) for source in params.inputs]
    on_step = progress_steps(deps.emit, events, SOURCES_SHARE, SOURCES_SHARE + ENCODE_SHARE)
    video = await provider.generate_video(params, images, on_step)
    await deps.emit(events.progress(SOURCES_SHARE + ENCODE_SHARE, "storing"))
    return JobResult(assets=await _store(request, video, deps.store))


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
