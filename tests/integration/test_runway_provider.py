"""The Runway provider against a local server that implements Runway's image-to-video and tasks
API: the exact task it starts (key, version header, gen4_turbo's body: the first image as a data
URI, reduced when over Runway's 5 MB, the ratio nearest the job's shape, 5 or 10 s), progress from
the task's `progress`, the MP4 downloaded without the key and described as it is with a poster,
a cancelled job deleting its task, and Runway's answers as the job's errors."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Iterator
from typing import Any

import pytest

from darkroom.contracts.errors import ErrorCode
from darkroom.contracts.params import VideoParams
from darkroom.media.fetch import FetchPolicy
from darkroom.runtime.worker.errors import PermanentError, RetryableError, WorkerError
from darkroom.video_worker.providers.runway import RunwaySettings
from darkroom.video_worker.providers.runway_client import RunwayVideos
from tests.fixtures.fake_runway import API_KEY, FakeRunway, serve_fake_runway
from tests.fixtures.media import NoteRecorder, png, stored_input

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def server() -> Iterator[FakeRunway]:
    yield from serve_fake_runway()


@pytest.fixture
def fake_runway(server: FakeRunway) -> FakeRunway:
    """One server for the module (stopping one takes half a second), emptied for each test."""
    server.received.clear()
    server.tasks.clear()
    return server


def videos(fake: FakeRunway, key: str = API_KEY) -> RunwayVideos:
    settings = RunwaySettings(
        api_key=key, base_url=fake.url, poll_interval_s=0.01, poll_max_interval_s=0.02
    )
    return RunwayVideos(settings, FetchPolicy(allow_loopback=True))


def params(**overrides: Any) -> VideoParams:
    values = {"prompt": "waves on a pier", "duration_s": 4, "fps": 24, "width": 1280}
    values |= {"height": 720, "seed": 5, "provider": "runway", "model": "gen4_turbo"}
    return VideoParams.model_validate(values | overrides)


async def test_an_image_becomes_a_task_whose_mp4_is_stored_as_it_is(
    fake_runway: FakeRunway,
) -> None:
    first, steps = png(64, 36), NoteRecorder()

    video = await videos(fake_runway).generate(params(), [stored_input(first)], steps)

    method, path, headers, body = fake_runway.received[0]
    assert (method, path) == ("POST", "/v1/image_to_video")
    assert headers["authorization"] == f"Bearer {API_KEY}"
    assert headers["x-runway-version"] == "2024-11-06"
    assert body == {
        "model": "gen4_turbo",
        "promptImage": f"data:image/png;base64,{base64.b64encode(first).decode()}",
        "ratio": "1280:720",
        "duration": 5,
        "seed": 5,
        "promptText": "waves on a pier",
    }
    assert (video.width, video.height, video.fps, video.frames) == (64, 36, 24, 120)
    assert video.duration_s == 5.0 and video.poster[:2] == b"\xff\xd8"
    [download] = [h for m, p, h, _ in fake_runway.received if p.startswith("/files/")]
    assert "authorization" not in download
    assert steps.done[0] == 1 and steps.done == sorted(steps.done) and steps.done[-1] == 100
    assert len(steps.done) > 2


async def test_shape_and_length_map_to_runways_ratios_and_its_5_or_10_seconds(
    fake_runway: FakeRunway,
) -> None:
    runway, image = videos(fake_runway), stored_input(png(40, 40))
    portrait = await runway.generate(
        params(width=720, height=1280, duration_s=8), [image], NoteRecorder()
    )
    square = await runway.generate(
        params(width=720, height=720, duration_s=7), [image], NoteRecorder()
    )

    sent = [b for m, p, _, b in fake_runway.received if p == "/v1/image_to_video"]
    assert [(b["ratio"], b["duration"]) for b in sent] == [("720:1280", 10), ("960:960", 5)]
    assert (portrait.frames, square.frames) == (240, 120)


async def test_an_image_over_runways_data_uri_limit_is_sent_reduced_as_jpeg(
    fake_runway: FakeRunway,
) -> None:
    big = stored_input(png(1200, 1100, noisy=True))  # ~5.3 MB: over 5 MB as a data URI

    await videos(fake_runway).generate(params(), [big], NoteRecorder())

    sent = fake_runway.received[0][3]["promptImage"]
    assert sent.startswith("data:image/jpeg;base64,") and len(sent) < 5 * 1024 * 1024


async def test_a_cancelled_job_deletes_its_task(fake_runway: FakeRunway) -> None:
    started = asyncio.Event()

    async def on_step(done: int, total: int, note: str | None = None) -> None:
        started.set()

    image = stored_input(png(40, 30))
    job = asyncio.create_task(videos(fake_runway).generate(params(prompt="slow"), [image], on_step))
    await asyncio.wait_for(started.wait(), 10)
    job.cancel()
    with pytest.raises(asyncio.CancelledError):
        await job
    [task_id] = fake_runway.tasks
    assert fake_runway.deletes() == [f"/v1/tasks/{task_id}"]


async def failure(
    fake: FakeRunway, prompt: str, key: str = API_KEY, images: int = 1
) -> WorkerError:
    sources = [stored_input(png(40, 30))] * images
    with pytest.raises(WorkerError) as raised:
        await videos(fake, key).generate(params(prompt=prompt), sources, NoteRecorder())
    return raised.value


async def test_runways_answers_become_the_jobs_errors_keeping_its_words(
    fake_runway: FakeRunway,
) -> None:
    refused = await failure(fake_runway, "a forbidden scene")
    assert isinstance(refused, PermanentError) and refused.code == ErrorCode.CONTENT_REFUSED
    assert "SAFETY.INPUT.TEXT" in str(refused)

    broken = await failure(fake_runway, "a broken take")
    assert isinstance(broken, RetryableError) and "INTERNAL.BAD_OUTPUT" in str(broken)

    busy = await failure(fake_runway, "a busy pier")
    assert isinstance(busy, RetryableError) and busy.code == ErrorCode.RATE_LIMITED
    assert busy.retry_after_s == 7.0 and "rate limit" in str(busy)

    expired = await failure(fake_runway, "an expired link")
    assert isinstance(expired, RetryableError) and "403" in str(expired)

    wrong = await failure(fake_runway, "a pier", key="key_wrong")
    assert isinstance(wrong, PermanentError) and wrong.code == ErrorCode.PROVIDER_AUTH
    assert "key_wrong" not in str(wrong)

    no_image = await failure(fake_runway, "a pier", images=0)
    assert isinstance(no_image, PermanentError) and no_image.code == ErrorCode.INVALID_INPUT
