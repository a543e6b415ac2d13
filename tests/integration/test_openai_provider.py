"""The OpenAI Images provider against a local server that implements the documented API: the
exact requests it sends (path, key, model, n, size, response_format), the images it stores, and
how OpenAI's errors become the job's: a 429 retried after its Retry-After, a safety refusal its
own terminal reason with OpenAI's message, a refused key permanent, a 500 or no answer retried."""

from __future__ import annotations

import pytest

from darkroom.contracts.errors import ErrorCode
from darkroom.image_worker.providers.openai_client import openai_size
from darkroom.image_worker.providers.openai_images import OpenAIImagesProvider, OpenAISettings
from darkroom.runtime.worker.errors import PermanentError, RetryableError, WorkerError
from tests.factories import image_params
from tests.fixtures.fake_openai import API_KEY, RETRY_AFTER_S, FakeOpenAI
from tests.fixtures.local_http import StepRecorder

pytestmark = pytest.mark.integration


def provider(url: str, key: str = API_KEY) -> OpenAIImagesProvider:
    return OpenAIImagesProvider(OpenAISettings(api_key=key, base_url=url, timeout_s=5))


async def test_dall_e_3_gets_one_request_per_image_at_the_size_closest_to_the_shape(
    fake_openai: FakeOpenAI,
) -> None:
    params = image_params(provider="openai", model="dall-e-3", num_images=2, width=1344, height=768)
    steps = StepRecorder()
    images = await provider(fake_openai.url).generate_image(params, steps)

    assert [(i.width, i.height, i.content_type) for i in images] == [(1792, 1024, "image/png")] * 2
    assert steps.calls == [(1, 3), (2, 3), (3, 3)]
    assert len(fake_openai.received) == 2
    for request in fake_openai.received:
        assert request.path == "/v1/images/generations"
        assert request.headers["authorization"] == f"Bearer {API_KEY}"
        assert request.body == {
            "model": "dall-e-3",
            "prompt": params.prompt,
            "n": 1,
            "size": "1792x1024",
            "response_format": "b64_json",
        }


async def test_gpt_image_1_gets_every_image_in_one_request_without_response_format(
    fake_openai: FakeOpenAI,
) -> None:
    params = image_params(
        provider="openai", model="gpt-image-1", num_images=3, width=768, height=1344
    )
    images = await provider(fake_openai.url).generate_image(params, StepRecorder())

    assert [(i.width, i.height) for i in images] == [(1024, 1536)] * 3
    [request] = fake_openai.received
    assert request.body == {
        "model": "gpt-image-1",
        "prompt": params.prompt,
        "n": 3,
        "size": "1024x1536",
    }


async def failure(
    url: str, prompt: str, model: str = "dall-e-3", key: str = API_KEY
) -> WorkerError:
    params = image_params(provider="openai", model=model, prompt=prompt, width=1024, height=1024)
    with pytest.raises(WorkerError) as raised:
        await provider(url, key).generate_image(params, StepRecorder())
    return raised.value


async def test_openai_errors_become_the_jobs_errors_keeping_openais_words(
    fake_openai: FakeOpenAI,
) -> None:
    busy = await failure(fake_openai.url, "busy harbour")
    assert isinstance(busy, RetryableError) and busy.code == ErrorCode.RATE_LIMITED
    assert busy.retry_after_s == RETRY_AFTER_S
    assert "rate_limit_exceeded" in str(busy)

    for model in ("dall-e-3", "gpt-image-1"):
        refused = await failure(fake_openai.url, "a forbidden scene", model)
        assert isinstance(refused, PermanentError) and refused.code == ErrorCode.CONTENT_REFUSED
        assert "rejected as a result of our safety system" in str(refused)

    wrong_key = await failure(fake_openai.url, "a harbour", key="sk-wrong")
    assert isinstance(wrong_key, PermanentError) and wrong_key.code == ErrorCode.PROVIDER_AUTH
    assert "sk-wrong" not in str(wrong_key)

    outage = await failure(fake_openai.url, "an outage")
    assert isinstance(outage, RetryableError) and outage.code == ErrorCode.PROVIDER_UNAVAILABLE

    unreachable = await failure("http://127.0.0.1:9/v1", "a harbour")
    assert isinstance(unreachable, RetryableError)
    assert unreachable.code == ErrorCode.PROVIDER_UNAVAILABLE


def test_each_shape_gets_the_models_closest_size() -> None:
    assert openai_size("gpt-image-1", 1024, 1024) == (1024, 1024)
    assert openai_size("gpt-image-1", 1344, 768) == (1536, 1024)
    assert openai_size("dall-e-3", 768, 1344) == (1024, 1792)
    assert openai_size("dall-e-3", 896, 1152) == (1024, 1024)  # 3:4 is nearer square than 4:7
    assert openai_size("dall-e-2", 640, 640) == (1024, 1024)  # the largest of equals
