"""Image jobs on the OpenAI provider through the whole stack, against a local server that
implements OpenAI's Images API: the job completes with the image OpenAI made (at the size the
model makes for the job's shape), a safety refusal fails the job with its own code and OpenAI's
words, GET /v1/models shows the provider configured, and the API key reaches no log."""

from __future__ import annotations

import io
import uuid

import httpx
import pytest
from PIL import Image

from tests.e2e.client import submit, wait_for_status
from tests.fixtures.fake_openai import API_KEY, FakeOpenAI
from tests.fixtures.tokens import auth

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(180)]


async def test_image_jobs_run_on_openai_and_a_refusal_is_the_jobs_terminal_reason(
    make_stack,  # type: ignore[no-untyped-def]
    fake_openai: FakeOpenAI,
) -> None:
    stack = make_stack(OPENAI_API_KEY=API_KEY, OPENAI_BASE_URL=fake_openai.url)
    user = f"u-{uuid.uuid4().hex[:8]}"
    async with httpx.AsyncClient(timeout=30) as http:
        catalog = (await http.get(f"{stack.gateway_url}/v1/models", headers=auth(user))).json()
        openai = next(p for p in catalog["providers"] if p["name"] == "openai")
        assert openai["configured"] and openai["models"][0]["name"] == "gpt-image-1"

        job = await submit(
            http, stack.gateway_url, user, provider="openai", aspect_ratio="16:9", num_images=2
        )
        done = await wait_for_status(http, job["status_url"], user, "completed")
        assert done["params"]["model"] == "gpt-image-1"
        assert [(a["width"], a["height"]) for a in done["assets"]] == [(1536, 1024)] * 2
        picture = (await http.get(done["assets"][0]["url"])).content
        assert Image.open(io.BytesIO(picture)).size == (1536, 1024)

        refused = await submit(
            http, stack.gateway_url, user, prompt="a forbidden scene", provider="openai"
        )
        failed = await wait_for_status(http, refused["status_url"], user, "failed")
        assert failed["error"]["code"] == "content_refused"
        assert "safety system" in failed["error"]["message"]
    [first, *_] = fake_openai.received
    assert first.body["model"] == "gpt-image-1" and first.body["size"] == "1536x1024"
    assert API_KEY not in stack.logs()
