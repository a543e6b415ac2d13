"""The Google provider against a local server that implements the Gemini API's generateContent for
image models: one call per image (seeds seed, seed + 1, … within int32) with the key in
`x-goog-api-key`, the aspect ratio nearest the job's shape, the image stored at the size Gemini
made; a blocked prompt or a refused image is content_refused, a 429 is rate_limited after its
RetryInfo delay, a refused key is provider_auth, an overloaded model, an answer without an image,
a timeout or no answer is retried, an unknown model is invalid_input; the SDK never retries on
its own, and a cancelled job stops waiting (Google has no cancel)."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from google.genai import errors

from darkroom.contracts.errors import ErrorCode
from darkroom.contracts.params import MAX_SEED
from darkroom.image_worker.providers.google_client import gemini_aspect_ratio, google_error
from darkroom.image_worker.providers.google_images import GoogleProvider, GoogleSettings
from darkroom.runtime.worker.errors import PermanentError, RetryableError, WorkerError
from tests.factories import image_params
from tests.fixtures.fake_google import API_KEY, RETRY_DELAY_S, FakeGoogle
from tests.fixtures.local_http import StepRecorder

pytestmark = pytest.mark.integration
GENERATE = "/v1beta/models/{}:generateContent"


def provider(url: str, key: str = API_KEY, timeout_s: float = 5) -> GoogleProvider:
    return GoogleProvider(GoogleSettings(api_key=key, base_url=url, timeout_s=timeout_s))


async def test_each_image_is_one_call_at_the_nearest_aspect_ratio_with_its_own_seed(
    fake_google: FakeGoogle,
) -> None:
    params = image_params(
        provider="google", model="gemini-2.5-flash-image", prompt="a lighthouse at dusk",
        num_images=2, width=1344, height=768, seed=41,
    )  # fmt: skip
    steps = StepRecorder()
    images = await provider(fake_google.url).generate_image(params, steps)

    assert [(i.width, i.height, i.content_type) for i in images] == [(1344, 768, "image/png")] * 2
    assert steps.calls == [(1, 3), (2, 3), (3, 3)]
    assert [r.path for r in fake_google.received] == [GENERATE.format(params.model)] * 2
    assert all(r.headers["x-goog-api-key"] == API_KEY for r in fake_google.received)
    bodies = sorted(fake_google.received, key=lambda r: r.body["generationConfig"]["seed"])
    assert [r.body for r in bodies] == [
        {
            "contents": [{"parts": [{"text": "a lighthouse at dusk"}], "role": "user"}],
            "generationConfig": {
                "seed": seed,
                "responseModalities": ["IMAGE"],
                "imageConfig": {"aspectRatio": "16:9"},
            },
        }
        for seed in (41, 42)
    ]


async def test_seeds_wrap_into_int32_and_the_image_keeps_the_size_gemini_made(
    fake_google: FakeGoogle,
) -> None:
    params = image_params(
        provider="google", model="gemini-3-pro-image", num_images=2, width=768, height=1024,
        seed=MAX_SEED,
    )  # fmt: skip
    images = await provider(fake_google.url).generate_image(params, StepRecorder())

    assert [(i.width, i.height) for i in images] == [(864, 1184)] * 2  # Gemini's 3:4
    configs = [r.body["generationConfig"] for r in fake_google.received]
    assert sorted(c["seed"] for c in configs) == [0, 2**31 - 1]
    assert {c["imageConfig"]["aspectRatio"] for c in configs} == {"3:4"}


async def failure(
    google: GoogleProvider, prompt: str, model: str = "gemini-2.5-flash-image"
) -> WorkerError:
    params = image_params(provider="google", model=model, prompt=prompt, width=1024, height=1024)
    with pytest.raises(WorkerError) as raised:
        await google.generate_image(params, StepRecorder())
    return raised.value


async def test_googles_answers_become_the_jobs_errors_keeping_googles_words(
    fake_google: FakeGoogle,
) -> None:
    google = provider(fake_google.url)
    refused = await failure(google, "a forbidden scene")
    assert isinstance(refused, PermanentError) and refused.code == ErrorCode.CONTENT_REFUSED
    assert "IMAGE_SAFETY" in str(refused)

    blocked = await failure(google, "a blocked scene")
    assert isinstance(blocked, PermanentError) and blocked.code == ErrorCode.CONTENT_REFUSED
    assert "PROHIBITED_CONTENT" in str(blocked)

    busy = await failure(google, "a busy harbour")
    assert isinstance(busy, RetryableError) and busy.code == ErrorCode.RATE_LIMITED
    assert busy.retry_after_s == RETRY_DELAY_S and "RESOURCE_EXHAUSTED" in str(busy)

    outage = await failure(google, "an outage")
    assert isinstance(outage, RetryableError) and outage.code == ErrorCode.PROVIDER_UNAVAILABLE
    assert "UNAVAILABLE" in str(outage)

    unclear = await failure(google, "an unclear wish")
    assert isinstance(unclear, RetryableError) and "NO_IMAGE" in str(unclear)

    retired = await failure(google, "a harbour", model="imagen-4.0-generate-001")
    assert isinstance(retired, PermanentError) and retired.code == ErrorCode.INVALID_INPUT
    assert "NOT_FOUND" in str(retired)
    assert len(fake_google.received) == 6  # one request each: the SDK never retried


async def test_a_refused_key_is_provider_auth_and_no_answer_is_retried(
    fake_google: FakeGoogle,
) -> None:
    wrong_key = await failure(provider(fake_google.url, key="AIzaSy-wrong"), "a harbour")
    assert isinstance(wrong_key, PermanentError) and wrong_key.code == ErrorCode.PROVIDER_AUTH
    assert "API key not valid" in str(wrong_key) and "AIzaSy-wrong" not in str(wrong_key)

    late = await failure(provider(fake_google.url, timeout_s=0.2), "a slow tide")
    assert isinstance(late, RetryableError) and late.code == ErrorCode.PROVIDER_TIMEOUT

    unreachable = await failure(provider("http://127.0.0.1:9"), "a harbour")
    assert isinstance(unreachable, RetryableError)
    assert unreachable.code == ErrorCode.PROVIDER_UNAVAILABLE


async def test_a_cancelled_job_stops_waiting_and_sends_nothing_more(
    fake_google: FakeGoogle,
) -> None:
    params = image_params(provider="google", model="gemini-2.5-flash-image", prompt="a slow tide")
    steps = StepRecorder()
    job = asyncio.create_task(provider(fake_google.url).generate_image(params, steps))
    assert await asyncio.to_thread(fake_google.arrived.wait, 2)

    job.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(job, 1)
    fake_google.release.set()
    assert steps.calls == [(1, 2)] and len(fake_google.received) == 1


def test_a_retry_after_header_wins_over_the_retryinfo_delay() -> None:
    body = {"error": {"code": 429, "message": "Quota exceeded.", "status": "RESOURCE_EXHAUSTED"}}
    response = httpx.Response(429, headers={"retry-after": "3"}, json=body)
    limited = google_error(errors.ClientError(429, body, response))
    assert isinstance(limited, RetryableError) and limited.retry_after_s == 3


def test_each_shape_gets_the_nearest_aspect_ratio_gemini_takes() -> None:
    shapes = [(1024, 1024), (1344, 768), (768, 1344), (1152, 896), (896, 1152), (2048, 768)]
    assert [gemini_aspect_ratio(w, h) for w, h in shapes] == [
        "1:1", "16:9", "9:16", "5:4", "4:5", "21:9",
    ]  # fmt: skip
