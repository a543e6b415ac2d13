"""Replicate's upscale and video models against a local server that implements Replicate's
predictions and files APIs: the exact predictions created (a community model by version, an
official one by name; a small input as a data URI, a big one uploaded first), the results
downloaded without the token, stored as the job asked (an upscale exactly `scale` times larger in
its format) or as they are (a video's size, rate and frames read from the file, with a poster),
and the job's errors (refusal, expired output, cancel, an output over the limit)."""

from __future__ import annotations

import asyncio
import base64
import io
from collections.abc import Iterator
from typing import Any

import pytest
from PIL import Image

from darkroom.contracts.errors import ErrorCode
from darkroom.contracts.params import InputImage, UpscaleParams, VideoParams
from darkroom.runtime.inputs import InputSettings
from darkroom.runtime.providers.replicate_settings import ReplicateSettings
from darkroom.runtime.worker.errors import PermanentError, RetryableError
from darkroom.upscale_worker.providers.replicate_client import ReplicateUpscaler
from darkroom.video_worker.providers.replicate_client import ReplicateVideos
from tests.fixtures.fake_replicate import (
    API_TOKEN,
    ESRGAN_VERSION,
    FakeReplicate,
    serve_fake_replicate,
)
from tests.fixtures.media import NoteRecorder, png, stored_input

pytestmark = pytest.mark.integration
ESRGAN = "nightmareai/real-esrgan"


@pytest.fixture(scope="module")
def server() -> Iterator[FakeReplicate]:
    yield from serve_fake_replicate()


@pytest.fixture
def fake_replicate(server: FakeReplicate) -> FakeReplicate:
    """One server for the module (stopping one takes half a second), emptied for each test."""
    server.received.clear()
    server.runs.clear()
    server.files.clear()
    return server


def settings(fake: FakeReplicate) -> ReplicateSettings:
    return ReplicateSettings(
        api_token=API_TOKEN, base_url=fake.url, poll_interval_s=0.01, poll_max_interval_s=0.02
    )


def inputs(**limits: Any) -> InputSettings:
    return InputSettings(_env_file=None, input_fetch_allow_loopback=True, **limits)


def upscale_params(**overrides: Any) -> UpscaleParams:
    values = {"input": InputImage(key="k"), "scale": 2, "format": "png", "provider": "replicate"}
    return UpscaleParams.model_validate(values | {"model": ESRGAN} | overrides)


def video_params(**overrides: Any) -> VideoParams:
    values = {"prompt": "a tide rolling in", "duration_s": 4, "fps": 24, "width": 1280}
    values |= {"height": 720, "seed": 5, "provider": "replicate", "model": "minimax/video-01"}
    return VideoParams.model_validate(values | overrides)


async def test_an_upscale_runs_real_esrgan_by_version_on_a_data_uri_and_keeps_its_png(
    fake_replicate: FakeReplicate,
) -> None:
    given, steps = png(40, 30), NoteRecorder()
    upscaler = ReplicateUpscaler(settings(fake_replicate), inputs())

    output = await upscaler.upscale(upscale_params(), stored_input(given), steps)

    method, path, headers, body = fake_replicate.received[0]
    assert (method, path) == ("POST", "/v1/predictions")
    assert headers["authorization"] == f"Bearer {API_TOKEN}"
    data_uri = f"data:image/png;base64,{base64.b64encode(given).decode()}"
    assert body == {
        "version": ESRGAN_VERSION,
        "input": {"image": data_uri, "scale": 2, "face_enhance": False},
    }
    assert (output.width, output.height, output.content_type) == (80, 60, "image/png")
    assert Image.open(io.BytesIO(output.data)).size == (80, 60)
    downloads = [h for m, p, h, _ in fake_replicate.received if p.startswith("/files/")]
    assert len(downloads) == 1 and "authorization" not in downloads[0]
    assert steps.done[0] == 1 and steps.done == sorted(steps.done)


async def test_a_big_input_is_uploaded_first_and_the_result_reencoded_as_webp(
    fake_replicate: FakeReplicate,
) -> None:
    upscaler = ReplicateUpscaler(settings(fake_replicate), inputs())
    params = upscale_params(format="webp")

    output = await upscaler.upscale(params, stored_input(png(640, 600, noisy=True)), NoteRecorder())

    upload, create = fake_replicate.received[:2]
    assert (upload[0], upload[1]) == ("POST", "/v1/files")
    [file_id] = fake_replicate.files
    assert create[3]["input"]["image"] == f"{fake_replicate.url}/v1/files/{file_id}"
    assert (output.width, output.height, output.content_type) == (1280, 1200, "image/webp")
    assert Image.open(io.BytesIO(output.data)).format == "WEBP"


async def test_an_upscale_over_the_output_limit_is_refused_before_anything_is_sent(
    fake_replicate: FakeReplicate,
) -> None:
    upscaler = ReplicateUpscaler(settings(fake_replicate), inputs(upscale_max_output_pixels=4799))

    with pytest.raises(ValueError, match="exceeds the limit"):
        await upscaler.upscale(upscale_params(), stored_input(png(40, 30)), NoteRecorder())
    assert fake_replicate.received == []


async def test_a_video_prediction_gets_the_prompt_and_first_frame_and_is_stored_as_it_is(
    fake_replicate: FakeReplicate,
) -> None:
    first = png(64, 36)
    videos = ReplicateVideos(settings(fake_replicate), inputs())
    steps = NoteRecorder()

    video = await videos.generate(video_params(), [stored_input(first)], steps)

    method, path, _, body = fake_replicate.received[0]
    assert (method, path) == ("POST", "/v1/models/minimax/video-01/predictions")
    data_uri = f"data:image/png;base64,{base64.b64encode(first).decode()}"
    assert body == {
        "input": {
            "prompt": "a tide rolling in", "prompt_optimizer": True, "first_frame_image": data_uri
        }
    }  # fmt: skip
    assert (video.width, video.height, video.fps, video.frames) == (160, 90, 25, 25)
    assert video.duration_s == 1.0 and video.mp4[4:8] == b"ftyp"
    assert Image.open(io.BytesIO(video.poster)).format == "JPEG"
    assert steps.done[0] == 1 and steps.done == sorted(steps.done)


async def test_video_failures_become_the_jobs_errors(fake_replicate: FakeReplicate) -> None:
    videos = ReplicateVideos(settings(fake_replicate), inputs())

    async def failure(**overrides: Any) -> BaseException:
        with pytest.raises((PermanentError, RetryableError)) as raised:
            await videos.generate(video_params(**overrides), [], NoteRecorder())
        return raised.value

    refused = await failure(prompt="an nsfw scene")
    assert isinstance(refused, PermanentError) and refused.code == ErrorCode.CONTENT_REFUSED
    expired = await failure(prompt="an expired link")
    assert isinstance(expired, RetryableError) and "403" in str(expired)
    unprompted = await failure(prompt=None, inputs=[InputImage(key="k")])
    assert isinstance(unprompted, PermanentError) and unprompted.code == ErrorCode.INVALID_INPUT


async def test_a_cancelled_video_job_cancels_its_prediction(fake_replicate: FakeReplicate) -> None:
    videos = ReplicateVideos(settings(fake_replicate), inputs())
    started = asyncio.Event()

    async def on_step(done: int, total: int, note: str | None = None) -> None:
        started.set()

    job = asyncio.create_task(videos.generate(video_params(prompt="a slow tide"), [], on_step))
    await asyncio.wait_for(started.wait(), 10)
    job.cancel()
    with pytest.raises(asyncio.CancelledError):
        await job
    [run_id] = fake_replicate.runs
    assert fake_replicate.cancels() == [f"/v1/predictions/{run_id}/cancel"]
