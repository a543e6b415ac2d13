"""The Replicate provider against a local server that implements Replicate's predictions API:
the prediction it creates (path, token, input), progress from the prediction's logs, outputs
downloaded without the token through the SSRF-safe fetcher, a cancelled job cancelling the
prediction, and Replicate's errors as the job's (a safety failure content_refused, a model
crash retried, a 429 retried when Replicate says, a refused token provider_auth)."""

from __future__ import annotations

import asyncio

import pytest

from darkroom.contracts.errors import ErrorCode
from darkroom.image_worker.providers.replicate_client import ReplicateImages
from darkroom.media.fetch import FetchPolicy
from darkroom.runtime.providers.replicate_settings import ReplicateSettings
from darkroom.runtime.worker.errors import PermanentError, RetryableError, WorkerError
from tests.factories import image_params
from tests.fixtures.fake_replicate import API_TOKEN, FakeReplicate
from tests.fixtures.local_http import StepRecorder

pytestmark = pytest.mark.integration
SCHNELL = "black-forest-labs/flux-schnell"


def predictions(fake: FakeReplicate, token: str = API_TOKEN) -> ReplicateImages:
    settings = ReplicateSettings(
        api_token=token, base_url=fake.url, poll_interval_s=0.01, poll_max_interval_s=0.02
    )
    return ReplicateImages(settings, FetchPolicy(allow_loopback=True))


async def test_a_prediction_is_created_polled_with_progress_and_its_outputs_downloaded(
    fake_replicate: FakeReplicate,
) -> None:
    params = image_params(
        provider="replicate", model=SCHNELL, prompt="a slow tide", num_images=2,
        width=1344, height=768, seed=7,
    )  # fmt: skip
    steps = StepRecorder()
    images = await predictions(fake_replicate).generate(params, steps)

    assert [(i.width, i.height) for i in images] == [(1344, 768)] * 2
    method, path, headers, body = fake_replicate.received[0]
    assert (method, path) == ("POST", f"/v1/models/{SCHNELL}/predictions")
    assert headers["authorization"] == f"Bearer {API_TOKEN}"
    assert body == {
        "input": {
            "prompt": "a slow tide", "aspect_ratio": "16:9", "num_outputs": 2, "seed": 7,
            "output_format": "png",
        }
    }  # fmt: skip
    percents = [done for done, _ in steps.calls]
    assert percents[0] == 1 and percents == sorted(percents) and len(percents) > 2
    downloads = [h for m, p, h, _ in fake_replicate.received if p.startswith("/files/")]
    assert len(downloads) == 2 and all("authorization" not in h for h in downloads)


async def test_a_cancelled_job_cancels_its_prediction(fake_replicate: FakeReplicate) -> None:
    params = image_params(provider="replicate", model=SCHNELL, prompt="a slow tide")
    started = asyncio.Event()

    async def on_step(done: int, total: int) -> None:
        started.set()  # the prediction exists and runs

    job = asyncio.create_task(predictions(fake_replicate).generate(params, on_step))
    await asyncio.wait_for(started.wait(), 10)
    job.cancel()
    with pytest.raises(asyncio.CancelledError):
        await job
    [run_id] = fake_replicate.runs
    assert fake_replicate.cancels() == [f"/v1/predictions/{run_id}/cancel"]


async def failure(fake: FakeReplicate, prompt: str, **kwargs: str) -> WorkerError:
    model = kwargs.pop("model", SCHNELL)
    params = image_params(provider="replicate", model=model, prompt=prompt)
    with pytest.raises(WorkerError) as raised:
        await predictions(fake, **kwargs).generate(params, StepRecorder())
    return raised.value


async def test_replicates_answers_become_the_jobs_errors_keeping_its_words(
    fake_replicate: FakeReplicate,
) -> None:
    refused = await failure(fake_replicate, "an nsfw scene")
    assert isinstance(refused, PermanentError) and refused.code == ErrorCode.CONTENT_REFUSED
    assert "NSFW content detected" in str(refused)

    crash = await failure(fake_replicate, "a crash")
    assert isinstance(crash, RetryableError) and "CUDA out of memory" in str(crash)

    busy = await failure(fake_replicate, "a busy port")
    assert isinstance(busy, RetryableError) and busy.code == ErrorCode.RATE_LIMITED
    assert busy.retry_after_s == 3.0

    wrong = await failure(fake_replicate, "a harbour", token="r8_wrong")
    assert isinstance(wrong, PermanentError) and wrong.code == ErrorCode.PROVIDER_AUTH

    unknown = await failure(fake_replicate, "a harbour", model="someone/nothing")
    assert isinstance(unknown, PermanentError) and unknown.code == ErrorCode.INVALID_INPUT
