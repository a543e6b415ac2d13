"""The RunPod serverless provider against a local server that implements RunPod's documented
queue-based endpoint API (run, status, cancel) with a worker keeping Darkroom's contract: the
job it submits (path, Bearer key, the contract's input, the execution policy), progress from the
job's state and the worker's progress updates, images read as the contract and the worker-comfyui
and worker-sdxl templates answer them (base64, data URIs, result URLs downloaded without the key),
a cancelled job cancelling the RunPod job, and RunPod's answers as the job's errors."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from darkroom.contracts.errors import ErrorCode
from darkroom.image_worker.providers.runpod_images import RunpodProvider, RunpodSettings
from darkroom.media.fetch import FetchPolicy
from darkroom.runtime.worker.errors import PermanentError, RetryableError, WorkerError
from tests.factories import image_params
from tests.fixtures.fake_runpod import API_KEY, ENDPOINT_ID, FakeRunpod, serve_fake_runpod
from tests.fixtures.local_http import StepRecorder

pytestmark = pytest.mark.integration
LOOPBACK_OK = FetchPolicy(allow_loopback=True)


@pytest.fixture(scope="module")
def server() -> Iterator[FakeRunpod]:
    yield from serve_fake_runpod()


@pytest.fixture
def fake_runpod(server: FakeRunpod) -> FakeRunpod:
    """One server for the module (each stop waits half a second), its records per test."""
    server.received.clear()
    server.jobs.clear()
    return server


def provider(
    fake: FakeRunpod, key: str = API_KEY, endpoint: str = ENDPOINT_ID, **settings: float
) -> RunpodProvider:
    values = {"poll_interval_s": 0.01, "poll_max_interval_s": 0.02, "timeout_s": 5} | settings
    config = RunpodSettings(api_key=key, endpoint_id=endpoint, base_url=fake.url, **values)  # type: ignore[arg-type]
    return RunpodProvider(config, LOOPBACK_OK)


async def test_a_job_runs_the_contract_input_on_the_endpoint_with_progress_until_its_images(
    fake_runpod: FakeRunpod,
) -> None:
    params = image_params(
        provider="runpod", model="endpoint", prompt="a slow tide", negative_prompt="fog",
        num_images=2, width=768, height=512, seed=7,
    )  # fmt: skip
    steps = StepRecorder()
    images = await provider(fake_runpod, execution_timeout_s=120, ttl_s=900).generate_image(
        params, steps
    )

    assert [(i.width, i.height, i.content_type) for i in images] == [(768, 512, "image/png")] * 2
    method, path, headers, body = fake_runpod.received[0]
    assert (method, path) == ("POST", f"/v2/{ENDPOINT_ID}/run")
    assert headers["authorization"] == f"Bearer {API_KEY}"
    assert body == {
        "input": {
            "prompt": "a slow tide", "negative_prompt": "fog", "width": 768, "height": 512,
            "num_images": 2, "seed": 7, "model": "endpoint",
        },
        "policy": {"executionTimeout": 120_000, "ttl": 900_000},
    }  # fmt: skip
    [job_id] = fake_runpod.jobs
    polls = [p for m, p, *_ in fake_runpod.received[1:]]
    assert polls == [f"/v2/{ENDPOINT_ID}/status/{job_id}"] * 7  # queued, 5 running, completed
    done = [d for d, _ in steps.calls]
    assert done == [1, 2, 21, 40, 59, 78, 100]  # queued, running, 4 progress updates, stored
    assert {total for _, total in steps.calls} == {100}


@pytest.mark.parametrize("prompt", ["a comfy harbour", "an sdxl harbour", "a bucket harbour"])
async def test_the_worker_templates_answers_are_read_and_result_urls_fetched_without_the_key(
    fake_runpod: FakeRunpod, prompt: str
) -> None:
    params = image_params(provider="runpod", model="endpoint", prompt=prompt, num_images=2)
    images = await provider(fake_runpod).generate_image(params, StepRecorder())

    assert [(i.width, i.height) for i in images] == [(64, 64)] * 2
    downloads = [h for m, p, h, _ in fake_runpod.received if p.startswith("/bucket/")]
    assert len(downloads) == (2 if "bucket" in prompt else 0)
    assert all("authorization" not in h for h in downloads)


async def test_a_cancelled_job_cancels_its_runpod_job(fake_runpod: FakeRunpod) -> None:
    params = image_params(provider="runpod", model="endpoint", prompt="an endless tide")
    running = asyncio.Event()

    async def on_step(done: int, total: int) -> None:
        if done >= 2:
            running.set()  # a worker has the job

    job = asyncio.create_task(provider(fake_runpod).generate_image(params, on_step))
    await asyncio.wait_for(running.wait(), 10)
    job.cancel()
    with pytest.raises(asyncio.CancelledError):
        await job
    [job_id] = fake_runpod.jobs
    assert fake_runpod.cancels() == [f"/v2/{ENDPOINT_ID}/cancel/{job_id}"]
    assert fake_runpod.jobs[job_id].cancelled


async def failure(fake: FakeRunpod, prompt: str, **kwargs: str) -> WorkerError:
    params = image_params(provider="runpod", model="endpoint", prompt=prompt)
    with pytest.raises(WorkerError) as raised:
        await provider(fake, **kwargs).generate_image(params, StepRecorder())  # type: ignore[arg-type]
    assert API_KEY not in str(raised.value)
    return raised.value


async def test_the_workers_refusals_are_permanent_and_its_failures_retried(
    fake_runpod: FakeRunpod,
) -> None:
    prompts = ("a forbidden scene", "an invalid size", "a broken render", "a stalled render")
    refused, invalid, crash, stalled, expired = await asyncio.gather(
        *(failure(fake_runpod, prompt) for prompt in (*prompts, "an expired bucket"))
    )
    assert isinstance(refused, PermanentError) and refused.code == ErrorCode.CONTENT_REFUSED
    assert "NSFW content detected" in str(refused)

    assert isinstance(invalid, PermanentError) and invalid.code == ErrorCode.INVALID_INPUT
    assert "at most 1536" in str(invalid)

    assert isinstance(crash, RetryableError) and crash.code == ErrorCode.PROVIDER_UNAVAILABLE
    assert "FAILED" in str(crash) and "CUDA out of memory" in str(crash)

    assert isinstance(stalled, RetryableError) and stalled.code == ErrorCode.PROVIDER_TIMEOUT

    assert isinstance(expired, RetryableError) and "403" in str(expired)
    assert fake_runpod.cancels() == []  # finished jobs are not cancelled


async def test_runpods_refusals_become_the_jobs_errors(fake_runpod: FakeRunpod) -> None:
    busy, wrong_key, unknown = await asyncio.gather(
        failure(fake_runpod, "a busy port"),
        failure(fake_runpod, "a harbour", key="rpa_wrong"),
        failure(fake_runpod, "a harbour", endpoint="nothing-here"),
    )
    assert isinstance(busy, RetryableError) and busy.code == ErrorCode.RATE_LIMITED
    assert busy.retry_after_s == 2.0

    assert isinstance(wrong_key, PermanentError) and wrong_key.code == ErrorCode.PROVIDER_AUTH

    assert isinstance(unknown, PermanentError) and unknown.code == ErrorCode.PROVIDER_AUTH
    assert "RUNPOD_ENDPOINT_ID" in str(unknown)


async def test_a_result_url_on_a_loopback_address_is_refused_by_default(
    fake_runpod: FakeRunpod,
) -> None:
    config = RunpodSettings(
        api_key=API_KEY, endpoint_id=ENDPOINT_ID, base_url=fake_runpod.url, poll_interval_s=0.01
    )  # type: ignore[call-arg]
    params = image_params(provider="runpod", model="endpoint", prompt="a bucket harbour")
    with pytest.raises(RetryableError, match="loopback"):
        await RunpodProvider(config, FetchPolicy()).generate_image(params, StepRecorder())
