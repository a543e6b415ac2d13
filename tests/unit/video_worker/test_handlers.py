"""Video attempts: render from the prompt or the inputs, store the clip and its poster."""

from __future__ import annotations

import asyncio
import io
import uuid
from typing import Any

import pytest
from PIL import Image

from darkroom.contracts.errors import ErrorCode
from darkroom.contracts.events import JobEvent, JobProgress
from darkroom.contracts.jobtypes import JobType
from darkroom.contracts.params import InputImage, VideoParams
from darkroom.contracts.requests import VideoJobRequested
from darkroom.runtime.inputs import InputSettings
from darkroom.runtime.job_events import AttemptEvents
from darkroom.runtime.worker.errors import PermanentError, RetryableError
from darkroom.video_worker.handlers import WorkerDeps, render_clip
from darkroom.video_worker.providers import RenderedVideo
from darkroom.video_worker.providers.local_provider import LocalProvider
from tests.factories import OCCURRED_AT, random_job_id, random_user_id
from tests.unit.image_worker.fakes import FakeObjectStore


def video_request(**params: Any) -> VideoJobRequested:
    values = {"prompt": "waves at dusk", "duration_s": 1, "fps": 8, "width": 64, "height": 64}
    return VideoJobRequested(
        request_id=uuid.uuid4(),
        job_id=random_job_id(),
        user_id=random_user_id(),
        first_seq=3,
        requested_at=OCCURRED_AT,
        params=VideoParams.model_validate(values | {"seed": 11} | params),
    )


class Harness:
    def __init__(self) -> None:
        self.store = FakeObjectStore()
        self.emitted: list[JobEvent] = []
        self.deps = WorkerDeps({"local": LocalProvider()}, self.store, self.emit, InputSettings())

    async def emit(self, event: JobEvent) -> None:
        self.emitted.append(event)

    async def render(self, request: VideoJobRequested) -> Any:
        return await render_clip(request, AttemptEvents(request, JobType.VIDEO), self.deps)


async def test_a_prompt_alone_renders_an_mp4_and_a_jpeg_poster() -> None:
    harness, request = Harness(), video_request()

    result = await harness.render(request)

    clip, poster = result.assets
    assert clip.key == f"jobs/{request.job_id}/{request.request_id}/0.mp4"
    assert (clip.content_type, clip.frames, clip.duration_s) == ("video/mp4", 8, 1.0)
    assert (clip.width, clip.height) == (64, 64)
    assert poster.key == f"jobs/{request.job_id}/{request.request_id}/1.jpg"
    assert poster.content_type == "image/jpeg"
    assert sorted(harness.store.objects) == sorted([clip.key, poster.key])
    data, content_type = harness.store.objects[poster.key]
    assert content_type == "image/jpeg"
    assert Image.open(io.BytesIO(data)).format == "JPEG"
    assert harness.store.objects[clip.key][0][4:8] == b"ftyp"


async def test_video_progress_is_monotone_and_numbered_from_first_seq() -> None:
    harness, request = Harness(), video_request(duration_s=2, fps=12)

    await harness.render(request)

    assert all(isinstance(e, JobProgress) for e in harness.emitted)
    percents = [e.percent for e in harness.emitted]  # type: ignore[union-attr]
    assert len(percents) >= 3
    assert percents == sorted(percents)
    assert 0 < percents[0] and percents[-1] < 100
    assert [e.seq for e in harness.emitted] == list(range(3, 3 + len(percents)))


async def test_stored_input_images_are_animated_at_the_requested_size() -> None:
    harness = Harness()
    out = io.BytesIO()
    Image.new("RGB", (120, 90), (200, 40, 40)).save(out, format="PNG")
    harness.store.objects["uploads/u-1/a.png"] = (out.getvalue(), "image/png")
    request = video_request(prompt=None, inputs=[InputImage(key="uploads/u-1/a.png")], width=96)

    clip, _ = (await harness.render(request)).assets

    assert (clip.width, clip.height, clip.frames) == (96, 64, 8)


async def test_a_missing_input_image_is_refused_for_good() -> None:
    harness = Harness()
    request = video_request(inputs=[InputImage(key="uploads/u-1/gone.png")])

    with pytest.raises(PermanentError) as info:
        await harness.render(request)

    assert info.value.code is ErrorCode.INPUT_REFUSED
    assert harness.store.objects == {}


class SlowBrokerHarness(Harness):
    """Each emit takes a while to be acknowledged, as a broker's may: `acked` holds the events
    whose emit finished, in order."""

    def __init__(self) -> None:
        super().__init__()
        self.acked: list[JobEvent] = []

    async def emit(self, event: JobEvent) -> None:
        self.emitted.append(event)
        await asyncio.sleep(0.3)
        self.acked.append(event)


async def test_every_frame_report_is_emitted_even_when_the_broker_is_slow() -> None:
    harness, request = SlowBrokerHarness(), video_request()

    await harness.render(request)

    assert [e.message for e in harness.acked] == [  # type: ignore[union-attr]
        "encoding 8 frames",
        "frame 8/8",
        "storing",
    ]
    assert [e.seq for e in harness.acked] == [3, 4, 5]


async def test_a_video_naming_a_provider_this_worker_lacks_is_retried_elsewhere() -> None:
    harness, request = Harness(), video_request(provider="runway", model="gen4_turbo")

    with pytest.raises(RetryableError) as info:
        await harness.render(request)

    assert info.value.code is ErrorCode.PROVIDER_UNAVAILABLE
    assert harness.emitted == [] and harness.store.objects == {}


class OneStepProvider:
    """A hosted provider's stand-in: whatever it is given, one step and a tiny described clip."""

    def __init__(self) -> None:
        self.given: list[Any] = []

    async def generate_video(self, params: Any, images: Any, on_step: Any) -> RenderedVideo:
        self.given = list(images)
        await on_step(100, 100, "task succeeded")
        return RenderedVideo(b"\x00\x00\x00\x18ftypmp42", b"\xff\xd8jpeg", 64, 36, 24, 120, 5.0)


async def test_a_hosted_clip_is_stored_as_its_provider_describes_it() -> None:
    harness, provider = Harness(), OneStepProvider()
    harness.deps.providers = {"runway": provider}
    request = video_request(provider="runway", inputs=[InputImage(key="uploads/u-1/a.png")])

    clip, poster = (await harness.render(request)).assets

    assert [image.source.key for image in provider.given] == ["uploads/u-1/a.png"]
    assert (clip.width, clip.height, clip.frames, clip.duration_s) == (64, 36, 120, 5.0)
    assert poster.content_type == "image/jpeg"
    assert [e.message for e in harness.emitted] == ["task succeeded", "storing"]  # type: ignore[union-attr]
