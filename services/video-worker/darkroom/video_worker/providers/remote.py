"""What the hosted video providers share: their MP4 downloaded and described as it is (size,
rate, frames, length read from the file) with a JPEG poster of its middle frame, made here."""

from __future__ import annotations

import asyncio
import io
from fractions import Fraction

import av
from av.container import InputContainer

from darkroom.contracts.errors import ErrorCode
from darkroom.media.fetch import FetchPolicy
from darkroom.runtime.providers.media import download_result
from darkroom.runtime.worker.errors import RetryableError
from darkroom.video_worker.providers.base import RenderedVideo
from darkroom.video_worker.providers.local import poster_jpeg

MAX_VIDEO_BYTES = 200 * 1024 * 1024  # a result video's download limit (10 s of 1080p is ~20 MB)


async def download_video(url: str, policy: FetchPolicy, what: str) -> RenderedVideo:
    """The video at a provider's result URL, described; a download that fails or is not a video
    is retryable (a new attempt makes a new one)."""
    mp4 = await download_result(url, policy, what)
    try:
        return await asyncio.to_thread(describe_video, mp4)
    except (av.FFmpegError, ValueError) as exc:
        raise RetryableError(ErrorCode.PROVIDER_UNAVAILABLE, f"{what}: not a video: {exc}") from exc


def describe_video(mp4: bytes) -> RenderedVideo:
    """`mp4` as stored: its first video stream's size, frame rate, frame count and length, and
    a poster of its middle frame. Raises ValueError (or av.FFmpegError) for what is no video."""
    with av.open(io.BytesIO(mp4), mode="r") as container:
        if not container.streams.video:
            raise ValueError("the file has no video stream")
        stream = container.streams.video[0]
        rate = Fraction(stream.average_rate or stream.guessed_rate or 0)
        frames = stream.frames or sum(1 for p in container.demux(stream) if p.size)
        if stream.duration is not None and stream.time_base is not None:
            duration = float(stream.duration * stream.time_base)
        else:
            duration = float(frames / rate) if rate else 0.0
        size = stream.codec_context.width, stream.codec_context.height
    with av.open(io.BytesIO(mp4), mode="r") as container:
        poster = _poster(container, frames // 2)
    return RenderedVideo(
        mp4, poster, *size, fps=round(rate), frames=frames, duration_s=round(duration, 3)
    )


def _poster(container: InputContainer, index: int) -> bytes:
    """The JPEG of frame `index` (decoded up to it), or of the last frame if there are fewer."""
    picture = None
    for count, frame in enumerate(container.decode(video=0)):
        picture = frame.to_image()
        if count >= index:
            break
    if picture is None:
        raise ValueError("the video has no frames")
    return poster_jpeg(picture)
