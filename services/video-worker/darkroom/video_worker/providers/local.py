"""Ken Burns videos from still images: pan-and-zoom, crossfades, H.264 in MP4, all in memory.

Pure, synchronous CPU work that the local provider (local_provider) runs in a worker thread
(`asyncio.to_thread`). Every call owns its pictures, encoder and buffer and keeps no state
between calls, so concurrent calls are safe. The motion comes only from `seed`, so the same
inputs always give the same frames.
"""

import io
import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction

import av
from av.container import OutputContainer
from av.video.reformatter import ColorPrimaries, ColorRange, Colorspace, ColorTrc
from av.video.stream import VideoStream
from PIL import Image, ImageOps

from darkroom.video_worker.providers.base import RenderedVideo

# Called with (frames encoded so far, total frames), from the rendering thread.
FrameCallback = Callable[[int, int], None]

ZOOM = (1.0, 1.15)
# Sources are cover-cropped and scaled once to this multiple of the output size. Even at the
# widest view (VIEW_AT_ZOOM_1 / 1.0) a frame is sampled down, never up, so motion stays sharp.
PRESCALE = 1.3
# At zoom 1.0 the view covers this fraction of the pre-scaled picture; the margin is the pan room.
VIEW_AT_ZOOM_1 = 0.88
CROSSFADE_S = 0.5
POSTER_QUALITY = 85
CODEC_OPTIONS = {"crf": "23", "preset": "veryfast"}
# faststart puts the index (moov) first so playback starts before the download ends. FFmpeg
# does it by reopening the output by name at close; `_BufferReader` answers that reopen.
MUXER_OPTIONS = {"movflags": "+faststart"}
AVIO_FLAG_READ = 1


@dataclass(frozen=True)
class _Shot:
    """One source's motion: a pre-scaled picture, a zoom from-to and a pan direction."""

    picture: Image.Image
    zoom_from: float
    zoom_to: float
    pan_x: float
    pan_y: float

    def render(self, progress: float, size: tuple[int, int]) -> Image.Image:
        """The view at `progress` (0..1) through the motion, resampled with a sub-pixel box."""
        zoom = self.zoom_from + (self.zoom_to - self.zoom_from) * progress
        pic_w, pic_h = self.picture.size
        half_w, half_h = pic_w * VIEW_AT_ZOOM_1 / zoom / 2, pic_h * VIEW_AT_ZOOM_1 / zoom / 2
        # The centre sweeps across the margin left at zoom 1.0, so the view stays inside.
        sweep = (2 * progress - 1) * (1 - VIEW_AT_ZOOM_1) / 2
        centre_x = pic_w / 2 + self.pan_x * sweep * pic_w
        centre_y = pic_h / 2 + self.pan_y * sweep * pic_h
        box = (
            max(0.0, centre_x - half_w),
            max(0.0, centre_y - half_h),
            min(float(pic_w), centre_x + half_w),
            min(float(pic_h), centre_y + half_h),
        )
        return self.picture.resize(size, Image.Resampling.BICUBIC, box=box)


@dataclass(frozen=True)
class _Timeline:
    """Which shots a frame shows; time runs in shot units, 0..shots."""

    total: int
    shots: int
    fade: float  # crossfade length in shot units: 0 for one shot, never over half a shot

    def layers(self, index: int) -> list[tuple[int, float, float]]:
        """(shot, motion progress, blend weight onto the layers before) for frame `index`."""
        time = (index + 0.5) * self.shots / self.total
        current = min(int(time), self.shots - 1)
        for boundary in (current, current + 1):
            if 0 < boundary < self.shots and abs(time - boundary) < self.fade / 2:
                weight = (time - boundary) / self.fade + 0.5
                return [
                    (boundary - 1, self._progress(boundary - 1, time), 1.0),
                    (boundary, self._progress(boundary, time), weight),
                ]
        return [(current, self._progress(current, time), 1.0)]

    def _progress(self, shot: int, time: float) -> float:
        """Motion runs over the whole time a shot is visible, crossfades included."""
        start = max(0.0, shot - self.fade / 2)
        end = min(float(self.shots), shot + 1 + self.fade / 2)
        return min(1.0, max(0.0, (time - start) / (end - start)))


class _BufferReader:
    """A second, read-only handle on the BytesIO being muxed, for FFmpeg's faststart pass."""

    def __init__(self, buffer: io.BytesIO) -> None:
        self._buffer = buffer
        self._position = 0

    def read(self, size: int) -> bytes:
        with self._buffer.getbuffer() as view:
            chunk = bytes(view[self._position : self._position + size])
        self._position += len(chunk)
        return chunk

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        origin = {io.SEEK_SET: 0, io.SEEK_CUR: self._position}.get(whence)
        self._position = offset + (len(self._buffer.getbuffer()) if origin is None else origin)
        return self._position

    def tell(self) -> int:
        return self._position

    def close(self) -> None:
        """Nothing to release: the buffer belongs to the render."""


def render_video(
    sources: Sequence[Image.Image],
    *,
    width: int,
    height: int,
    fps: int,
    duration_s: int,
    seed: int,
    on_frames: FrameCallback | None = None,
    report_every: int = 8,
) -> RenderedVideo:
    """A pan-and-zoom video over `sources`, exactly fps * duration_s frames of width x height.

    One source gets one slow zoom (in or out) and pan; several share the duration evenly with
    ~0.5 s crossfades. Sources are cover-cropped to the output aspect (no letterboxing); alpha is
    flattened onto black. `on_frames(done, total)` runs every `report_every` frames and once at
    the end with (total, total). Raises ValueError for odd or empty sizes and other bad values.
    """
    _validate(sources, width, height, fps, duration_s, report_every)
    size, total = (width, height), fps * duration_s
    shots = _shots(sources, size, seed)
    fade = min(0.5, CROSSFADE_S * len(shots) / duration_s) if len(shots) > 1 else 0.0
    timeline = _Timeline(total=total, shots=len(shots), fade=fade)
    mp4, poster = _encode(shots, timeline, size, fps, on_frames, report_every)
    if on_frames is not None:
        on_frames(total, total)
    return RenderedVideo(
        mp4=mp4,
        poster=poster,
        width=width,
        height=height,
        fps=fps,
        frames=total,
        duration_s=float(duration_s),
    )


def _encode(
    shots: Sequence[_Shot],
    timeline: _Timeline,
    size: tuple[int, int],
    fps: int,
    on_frames: FrameCallback | None,
    report_every: int,
) -> tuple[bytes, bytes]:
    """(the MP4 of every frame of `timeline`, the JPEG poster of its middle frame)."""
    total = timeline.total
    buffer, poster = io.BytesIO(), b""
    with av.open(
        buffer, mode="w", format="mp4", options=dict(MUXER_OPTIONS), io_open=_reopen(buffer)
    ) as container:
        stream = _add_stream(container, *size, fps)
        for index in range(total):
            picture = _compose(shots, timeline.layers(index), size)
            if index == total // 2:
                poster = poster_jpeg(picture)
            container.mux(stream.encode(_video_frame(picture, index)))
            done = index + 1
            if on_frames is not None and done % report_every == 0 and done < total:
                on_frames(done, total)
        container.mux(stream.encode(None))  # flush the frames x264 still holds for lookahead
    return buffer.getvalue(), poster


def _validate(
    sources: Sequence[Image.Image],
    width: int,
    height: int,
    fps: int,
    duration_s: int,
    report_every: int,
) -> None:
    if not sources:
        raise ValueError("A video needs at least one source image.")
    if width < 2 or height < 2 or width % 2 or height % 2:
        raise ValueError(f"Video width and height must be even and positive, not {width}x{height}.")
    if fps < 1 or duration_s < 1:
        raise ValueError(f"fps and duration_s must be at least 1, not {fps} and {duration_s}.")
    if report_every < 1:
        raise ValueError(f"report_every must be at least 1, not {report_every}.")


def _shots(sources: Sequence[Image.Image], size: tuple[int, int], seed: int) -> list[_Shot]:
    """Each source cover-cropped and pre-scaled once, with a zoom and pan drawn from `seed`."""
    rng = random.Random(seed)  # a private generator: deterministic and thread-safe
    picture_size = source_size(*size)
    shots = []
    for source in sources:
        angle = rng.uniform(0.0, 2 * math.pi)
        zoom_from, zoom_to = ZOOM if rng.random() < 0.5 else ZOOM[::-1]
        picture = ImageOps.fit(_opaque(source), picture_size, Image.Resampling.LANCZOS)
        shots.append(_Shot(picture, zoom_from, zoom_to, math.cos(angle), math.sin(angle)))
    return shots


def source_size(width: int, height: int) -> tuple[int, int]:
    """The size each source is cover-cropped to for a video of width x height: a source larger
    than this is worth no more than this, so callers may reduce it before holding several."""
    return round(width * PRESCALE), round(height * PRESCALE)


def _opaque(image: Image.Image) -> Image.Image:
    """An upright RGB copy of `image`, transparent parts flattened onto black."""
    upright = ImageOps.exif_transpose(image)
    if "A" in upright.getbands() or "transparency" in upright.info:
        rgba = upright.convert("RGBA")
        black = Image.new("RGBA", rgba.size, (0, 0, 0, 255))
        return Image.alpha_composite(black, rgba).convert("RGB")
    return upright.convert("RGB")


def _compose(
    shots: Sequence[_Shot], layers: Sequence[tuple[int, float, float]], size: tuple[int, int]
) -> Image.Image:
    (first, progress, _), *rest = layers
    picture = shots[first].render(progress, size)
    for shot, progress, weight in rest:
        picture = Image.blend(picture, shots[shot].render(progress, size), weight)
    return picture


def _reopen(buffer: io.BytesIO) -> Callable[[str, int, object], _BufferReader]:
    def io_open(url: str, flags: int, options: object) -> _BufferReader:
        if flags != AVIO_FLAG_READ:
            raise OSError(f"The in-memory MP4 muxer cannot open {url!r} for writing.")
        return _BufferReader(buffer)

    return io_open


def _add_stream(container: OutputContainer, width: int, height: int, fps: int) -> VideoStream:
    stream = container.add_stream("libx264", rate=fps, options=dict(CODEC_OPTIONS))
    stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
    context = stream.codec_context
    context.time_base = Fraction(1, fps)
    # Tagged BT.709 (sRGB's primaries) so browsers do not guess BT.601 for small sizes.
    context.colorspace = Colorspace.ITU709
    context.color_primaries = ColorPrimaries.BT709
    context.color_trc = ColorTrc.BT709
    context.color_range = ColorRange.MPEG
    return stream


def _video_frame(picture: Image.Image, index: int) -> av.VideoFrame:
    frame = av.VideoFrame.from_image(picture).reformat(
        format="yuv420p", dst_colorspace=Colorspace.ITU709, dst_color_range=ColorRange.MPEG
    )
    frame.pts = index
    return frame


def poster_jpeg(picture: Image.Image) -> bytes:
    """A frame as the video's JPEG poster."""
    buffer = io.BytesIO()
    picture.save(buffer, format="JPEG", quality=POSTER_QUALITY)
    return buffer.getvalue()
