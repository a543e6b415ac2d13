"""Local Ken Burns rendering: exact frame counts and sizes, poster, progress, crossfade, guards."""

import io

import av
import numpy as np
import pytest
from PIL import Image

from darkroom.video_worker.providers import FrameCallback, RenderedVideo, render_video


def texture(width: int = 240, height: int = 160) -> Image.Image:
    ys, xs = np.mgrid[0:height, 0:width]
    rgb = np.stack([xs * 255 // width, ys * 255 // height, (xs * ys) % 256], axis=-1)
    return Image.fromarray(rgb.astype(np.uint8), "RGB")


def render(
    sources: list[Image.Image],
    on_frames: FrameCallback | None = None,
    report_every: int = 8,
    **overrides: int,
) -> RenderedVideo:
    options = {"width": 64, "height": 36, "fps": 12, "duration_s": 1, "seed": 1} | overrides
    return render_video(sources, on_frames=on_frames, report_every=report_every, **options)


def decode(video: RenderedVideo) -> tuple[str, list[np.ndarray]]:
    with av.open(io.BytesIO(video.mp4), mode="r") as container:
        stream = container.streams.video[0]
        frames = [frame.to_ndarray(format="rgb24").copy() for frame in container.decode(stream)]
        return stream.codec_context.name, frames


def test_two_seconds_at_12_fps_decode_to_24_h264_frames_of_the_requested_size() -> None:
    video = render([texture()], width=320, height=180, fps=12, duration_s=2)

    codec, frames = decode(video)

    assert codec == "h264"
    assert len(frames) == 24 == video.frames
    assert {frame.shape for frame in frames} == {(180, 320, 3)}
    assert (video.width, video.height, video.fps, video.duration_s) == (320, 180, 12, 2.0)


def test_index_comes_before_the_media_so_playback_can_start_early() -> None:
    mp4 = render([texture()]).mp4

    assert 0 < mp4.find(b"moov") < mp4.find(b"mdat")


def test_poster_is_a_jpeg_of_the_video_size() -> None:
    poster = Image.open(io.BytesIO(render([texture()], width=96, height=54).poster))

    assert (poster.format, poster.size) == ("JPEG", (96, 54))


def test_progress_rises_every_report_every_frames_and_ends_at_total() -> None:
    calls: list[tuple[int, int]] = []

    render([texture()], fps=12, duration_s=2, on_frames=lambda *c: calls.append(c), report_every=5)

    assert calls == [(5, 24), (10, 24), (15, 24), (20, 24), (24, 24)]


def test_two_sources_crossfade_in_the_middle() -> None:
    red, blue = Image.new("RGB", (80, 60), (220, 0, 0)), Image.new("RGB", (80, 60), (0, 0, 220))

    _, frames = decode(render([red, blue], fps=12, duration_s=2))
    first, middle, last = (frames[i].mean(axis=(0, 1)) for i in (0, len(frames) // 2, -1))

    assert first[0] > 180 > 40 > first[2]
    assert last[2] > 180 > 40 > last[0]
    assert 60 < middle[0] < 170 and 60 < middle[2] < 170


@pytest.mark.parametrize(("width", "height"), [(65, 36), (64, 37), (0, 36)])
def test_odd_or_empty_sizes_are_refused(width: int, height: int) -> None:
    with pytest.raises(ValueError, match="even and positive"):
        render([texture()], width=width, height=height)


def test_no_sources_is_refused() -> None:
    with pytest.raises(ValueError, match="at least one source"):
        render([])


@pytest.mark.parametrize(("fps", "duration_s"), [(1, 3), (5, 2), (24, 1), (30, 1)])
def test_frame_count_is_always_fps_times_duration(fps: int, duration_s: int) -> None:
    video = render([texture(), texture().rotate(90)], fps=fps, duration_s=duration_s)

    assert len(decode(video)[1]) == fps * duration_s == video.frames


def test_same_seed_gives_the_same_frames_and_another_seed_moves_differently() -> None:
    source = texture()

    one, again, other = (decode(render([source], seed=s))[1] for s in (7, 7, 8))

    # The same pictures go in; x264's output may differ by a rounding now and then (about 0.1 of
    # 255 on average), so "the same" is within 1.
    assert max(mean_difference(a, b) for a, b in zip(one, again, strict=True)) < 1
    assert mean_difference(one[-1], other[-1]) > 2


def mean_difference(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a.astype(int) - b.astype(int)).mean())


def test_transparent_sources_are_flattened_onto_black() -> None:
    clear = Image.new("RGBA", (80, 60), (255, 255, 255, 0))

    _, frames = decode(render([clear]))

    assert frames[0].max() < 30
