"""The fal provider against a local server that implements fal's queue API: one request per job
(the exact size, all images, PNG, safety checker on) with the key in `Authorization: Key …`,
status and result asked under the model's app (no sub-path), progress from the queue position
and the runner's logs, images downloaded without the key through the SSRF-safe fetcher, status
URLs off the queue host never followed, a cancelled job cancelling its request, and fal's answers
as the job's errors (any blacked-out image or a content_policy_violation is content_refused, a
runner error or an expired image URL is retried, a 429 is rate_limited with its Retry-After, a
refused key is provider_auth, an exhausted balance is retried)."""

from __future__ import annotations

import asyncio

import pytest

from darkroom.contracts.errors import ErrorCode
from darkroom.image_worker.providers.fal_images import FalProvider, FalSettings
from darkroom.image_worker.providers.fal_queue import app_path
from darkroom.media.fetch import FetchPolicy
from darkroom.runtime.worker.errors import PermanentError, RetryableError, WorkerError
from tests.factories import image_params
from tests.fixtures.fake_fal import API_KEY, RETRY_AFTER_S, FakeFal
from tests.fixtures.local_http import StepRecorder

pytestmark = pytest.mark.integration
LOOPBACK_OK = FetchPolicy(allow_loopback=True)
SCHNELL = "fal-ai/flux/schnell"


def provider(fake: FakeFal, key: str = API_KEY, policy: FetchPolicy = LOOPBACK_OK) -> FalProvider:
    settings = FalSettings(
        key=key, queue_url=fake.url, poll_interval_s=0.01, poll_max_interval_s=0.02, timeout_s=5
    )
    return FalProvider(settings, policy)


async def test_one_request_makes_every_image_at_the_jobs_size_and_progress_follows_the_queue(
    fake_fal: FakeFal,
) -> None:
    params = image_params(
        provider="fal", model=SCHNELL, prompt="a slow tide", num_images=2, width=1344,
        height=760, seed=41,
    )  # fmt: skip
    steps = StepRecorder()
    images = await provider(fake_fal).generate_image(params, steps)

    assert [(i.width, i.height, i.content_type) for i in images] == [(1344, 760, "image/png")] * 2
    [submit] = fake_fal.calls("POST")
    assert submit.path == f"/{SCHNELL}" and submit.headers["authorization"] == f"Key {API_KEY}"
    assert submit.body == {
        "prompt": "a slow tide", "image_size": {"width": 1344, "height": 760}, "num_images": 2,
        "seed": 41, "output_format": "png", "enable_safety_checker": True,
    }  # fmt: skip
    [request_id] = fake_fal.requests
    polls = fake_fal.calls("GET", "/status")
    assert {p.path for p in polls} == {f"/fal-ai/flux/requests/{request_id}/status?logs=1"}
    assert len(polls) == 2 + 3 + 1  # two more queue positions, three runner polls, completed
    assert [r.path for r in fake_fal.calls("GET", "/requests/") if r not in polls] == [
        f"/fal-ai/flux/requests/{request_id}"
    ]
    done = [d for d, _ in steps.calls]
    assert done == sorted(set(done)) and done[0] <= 9 and steps.calls[-1] == (100, 100)
    assert len([d for d in done if 10 <= d < 90]) == 3  # one step per runner log line
    downloads = fake_fal.calls("GET", "/files/")
    assert len(downloads) == 2 and all("authorization" not in d.headers for d in downloads)


@pytest.mark.parametrize(
    ("model", "app"),
    [("fal-ai/flux/dev", "fal-ai/flux"), ("fal-ai/flux-pro/v1.1", "fal-ai/flux-pro")],
)
async def test_a_models_request_is_asked_about_under_its_app_without_the_sub_path(
    fake_fal: FakeFal, model: str, app: str
) -> None:
    params = image_params(provider="fal", model=model, prompt="a harbour", width=512, height=512)
    [image] = await provider(fake_fal).generate_image(params, StepRecorder())

    assert (image.width, image.height) == (512, 512)
    [request_id] = fake_fal.requests
    assert [r.path for r in fake_fal.calls("POST")] == [f"/{model}"]
    assert {r.path.split("?")[0] for r in fake_fal.calls("GET", "/requests/")} == {
        f"/{app}/requests/{request_id}/status", f"/{app}/requests/{request_id}"
    }  # fmt: skip


def test_an_app_is_the_first_two_segments_of_a_model_id_after_a_namespace() -> None:
    assert [app_path(m) for m in ("fal-ai/flux/dev", "fal-ai/flux-pro/v1.1", "fal-ai/recraft")] == [
        "fal-ai/flux", "fal-ai/flux-pro", "fal-ai/recraft"
    ]  # fmt: skip
    assert app_path("workflows/someone/pipeline/run") == "workflows/someone/pipeline"


async def test_status_and_result_urls_off_the_queue_host_are_not_followed(
    fake_fal: FakeFal,
) -> None:
    params = image_params(provider="fal", model=SCHNELL, prompt="a harbour elsewhere")
    [image] = await provider(fake_fal).generate_image(params, StepRecorder())

    assert (image.width, image.height) == (64, 64)
    keyed = [r for r in fake_fal.received if "authorization" in r.headers]
    assert len(keyed) >= 3
    assert {r.headers["host"] for r in keyed} == {fake_fal.url.removeprefix("http://")}


async def test_a_cancelled_job_cancels_its_fal_request(fake_fal: FakeFal) -> None:
    params = image_params(provider="fal", model=SCHNELL, prompt="a slow tide")
    submitted = asyncio.Event()

    async def on_step(done: int, total: int) -> None:
        submitted.set()  # the request is queued at fal

    job = asyncio.create_task(provider(fake_fal).generate_image(params, on_step))
    await asyncio.wait_for(submitted.wait(), 5)
    job.cancel()
    with pytest.raises(asyncio.CancelledError):
        await job
    [request_id] = fake_fal.requests
    [cancel] = fake_fal.calls("PUT")
    assert cancel.path == f"/fal-ai/flux/requests/{request_id}/cancel"
    assert cancel.headers["authorization"] == f"Key {API_KEY}"


async def failure(fal: FalProvider, prompt: str, model: str = SCHNELL) -> WorkerError:
    params = image_params(provider="fal", model=model, prompt=prompt, num_images=2)
    with pytest.raises(WorkerError) as raised:
        await fal.generate_image(params, StepRecorder())
    return raised.value


async def test_a_blacked_out_image_or_a_content_policy_violation_refuses_the_job(
    fake_fal: FakeFal,
) -> None:
    fal = provider(fake_fal)
    every = await failure(fal, "a forbidden scene")
    assert isinstance(every, PermanentError) and every.code == ErrorCode.CONTENT_REFUSED
    assert "flagged 2 of 2 images" in str(every)

    one = await failure(fal, "a risque scene")
    assert isinstance(one, PermanentError) and one.code == ErrorCode.CONTENT_REFUSED
    assert "flagged 1 of 2 images" in str(one)

    policy = await failure(fal, "a flagged scene")
    assert isinstance(policy, PermanentError) and policy.code == ErrorCode.CONTENT_REFUSED
    assert "flagged by a content checker" in str(policy) and "body.prompt" in str(policy)
    assert not fake_fal.calls("GET", "/files/")  # refused images are never downloaded


async def test_fals_answers_become_the_jobs_errors_keeping_fals_words(fake_fal: FakeFal) -> None:
    fal = provider(fake_fal)
    broken = await failure(fal, "a broken render")
    assert isinstance(broken, RetryableError) and broken.code == ErrorCode.PROVIDER_UNAVAILABLE
    assert "runner_server_error" in str(broken)

    busy = await failure(fal, "a busy port")
    assert isinstance(busy, RetryableError) and busy.code == ErrorCode.RATE_LIMITED
    assert busy.retry_after_s == RETRY_AFTER_S

    unpaid = await failure(fal, "an unpaid bill")
    assert isinstance(unpaid, RetryableError) and "Exhausted balance" in str(unpaid)

    unknown = await failure(fal, "a harbour", model="fal-ai/nothing")
    assert isinstance(unknown, PermanentError) and unknown.code == ErrorCode.INVALID_INPUT
    assert "not found" in str(unknown)

    expired = await failure(fal, "an expired image")
    assert isinstance(expired, RetryableError) and "403" in str(expired)

    wrong_key = await failure(provider(fake_fal, key="5f0c2a7e-fal-test:wrong"), "a harbour")
    assert isinstance(wrong_key, PermanentError) and wrong_key.code == ErrorCode.PROVIDER_AUTH
    assert "No user found" in str(wrong_key) and "wrong" not in str(wrong_key)

    no_loopback = await failure(provider(fake_fal, policy=FetchPolicy()), "a harbour")
    assert isinstance(no_loopback, RetryableError) and "loopback" in str(no_loopback)
