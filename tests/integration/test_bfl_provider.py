"""The Black Forest Labs provider against a local server that implements BFL's documented API:
one task per image (seed, seed + 1, …) with the key in `x-key`, polls with backoff until Ready,
the signed result downloaded through the SSRF-safe fetcher; moderation is the job's
content_refused, a failed task or an expired result URL is retried, a 429 is rate_limited, a
refused key is provider_auth, and a result URL on a loopback address is refused by default."""

from __future__ import annotations

import pytest

from darkroom.contracts.errors import ErrorCode
from darkroom.image_worker.providers.bfl import BflProvider, BflSettings, bfl_side
from darkroom.media.fetch import FetchPolicy
from darkroom.runtime.worker.errors import PermanentError, RetryableError, WorkerError
from tests.factories import image_params
from tests.fixtures.fake_bfl import API_KEY, FakeBfl
from tests.fixtures.local_http import StepRecorder

pytestmark = pytest.mark.integration
LOOPBACK_OK = FetchPolicy(allow_loopback=True)


def provider(fake: FakeBfl, key: str = API_KEY, policy: FetchPolicy = LOOPBACK_OK) -> BflProvider:
    settings = BflSettings(api_key=key, base_url=fake.url, poll_interval_s=0.01, timeout_s=5)
    return BflProvider(settings, policy)


async def test_each_image_is_a_task_polled_until_ready_and_its_result_downloaded(
    fake_bfl: FakeBfl,
) -> None:
    params = image_params(
        provider="bfl", model="flux-pro-1.1", prompt="a slow tide", num_images=2,
        width=1344, height=768, seed=41,
    )  # fmt: skip
    steps = StepRecorder()
    images = await provider(fake_bfl).generate_image(params, steps)

    assert [(i.width, i.height, i.content_type) for i in images] == [(1344, 768, "image/png")] * 2
    assert steps.calls == [(1, 3), (2, 3), (3, 3)]
    posts = [
        (path, headers, body)
        for method, path, headers, body in fake_bfl.received
        if method == "POST"
    ]
    assert [path for path, _, _ in posts] == ["/v1/flux-pro-1.1"] * 2
    assert all(headers["x-key"] == API_KEY for _, headers, _ in posts)
    assert sorted(body["seed"] for _, _, body in posts) == [41, 42]
    assert posts[0][2] | {"seed": 0} == {
        "prompt": "a slow tide", "width": 1344, "height": 768, "seed": 0, "output_format": "png",
    }  # fmt: skip
    assert fake_bfl.polls() == 2 * 5  # four Pending answers, then Ready, per task
    samples = [h for m, p, h, _ in fake_bfl.received if p.startswith("/samples/")]
    assert len(samples) == 2 and all("x-key" not in h for h in samples)  # the key stays at BFL


async def failure(fake: FakeBfl, prompt: str, **kwargs: object) -> WorkerError:
    params = image_params(provider="bfl", model="flux-dev", prompt=prompt, width=512, height=512)
    with pytest.raises(WorkerError) as raised:
        await provider(fake, **kwargs).generate_image(params, StepRecorder())  # type: ignore[arg-type]
    return raised.value


async def test_bfls_answers_become_the_jobs_errors_keeping_bfls_words(fake_bfl: FakeBfl) -> None:
    moderated = await failure(fake_bfl, "a forbidden scene")
    assert isinstance(moderated, PermanentError) and moderated.code == ErrorCode.CONTENT_REFUSED
    assert "Content Moderated" in str(moderated) and "Derivative Works Filter" in str(moderated)

    broken = await failure(fake_bfl, "a broken render")
    assert isinstance(broken, RetryableError) and "Error" in str(broken)

    busy = await failure(fake_bfl, "a busy port")
    assert isinstance(busy, RetryableError) and busy.code == ErrorCode.RATE_LIMITED

    wrong_key = await failure(fake_bfl, "a harbour", key="bfl-wrong")
    assert isinstance(wrong_key, PermanentError) and wrong_key.code == ErrorCode.PROVIDER_AUTH

    expired = await failure(fake_bfl, "an expired sample")
    assert isinstance(expired, RetryableError) and "403" in str(expired)

    no_loopback = await failure(fake_bfl, "a harbour", policy=FetchPolicy())
    assert isinstance(no_loopback, RetryableError) and "loopback" in str(no_loopback)


def test_sides_are_multiples_of_32_within_bfls_range() -> None:
    assert [bfl_side(v) for v in (64, 768, 1000, 1344, 2048)] == [256, 768, 992, 1344, 1440]
