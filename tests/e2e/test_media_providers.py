"""Upscale and video jobs on hosted providers through the whole stack (gateway, relay, projector,
image, upscale and video workers, notifier), each provider a local server implementing its
documented API: an upload upscaled by Real-ESRGAN on Replicate, videos made by Runway (from an
image) and by MiniMax on Replicate (from a prompt), each stored by Darkroom as the file says; a
Runway refusal fails its job content_refused; a provider or model the deployment lacks, for a
job or a chain step, is a 422 on that field; no key reaches a log."""

from __future__ import annotations

import io
import signal
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from PIL import Image

from darkroom.runtime.embedded.stack import MEDIA_WORKERS, SERVICES, Stack
from tests.e2e.client import wait_for_status
from tests.fixtures import fake_replicate, fake_runway
from tests.fixtures.media import png
from tests.fixtures.tokens import auth

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(180)]

KEYS = (fake_replicate.API_TOKEN, fake_runway.API_KEY)
Servers = tuple[fake_replicate.FakeReplicate, fake_runway.FakeRunway]


@pytest.fixture(scope="module")
def servers() -> Iterator[Servers]:
    running = (fake_replicate.serve_fake_replicate(), fake_runway.serve_fake_runway())
    yield next(running[0]), next(running[1])
    for server in running:
        server.close()


@pytest.fixture(scope="module")
def stack(
    kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory, servers: Servers
) -> Iterator[Stack]:
    replicate, runway = servers
    stack = Stack.configure(
        tmp_path_factory.mktemp("media-providers"),
        kafka_bootstrap,
        suffix=f"mprov-{uuid.uuid4().hex[:8]}",
        REPLICATE_API_TOKEN=fake_replicate.API_TOKEN,
        REPLICATE_BASE_URL=replicate.url,
        REPLICATE_POLL_INTERVAL_S="0.05",
        RUNWAY_API_KEY=fake_runway.API_KEY,
        RUNWAY_BASE_URL=runway.url,
        RUNWAY_POLL_INTERVAL_S="0.05",
        RUNWAY_POLL_MAX_INTERVAL_S="0.1",
        INPUT_FETCH_ALLOW_LOOPBACK="true",  # the providers' result URLs are on this machine
    )
    stack.migrate()
    stack.start(*SERVICES, *MEDIA_WORKERS)
    yield stack
    codes = stack.stop_all()
    assert set(codes.values()) <= {0, -signal.SIGTERM}, f"unclean exits {codes}\n{stack.logs()}"
    logs = stack.logs()
    assert not [key for key in KEYS if key in logs], "an API key reached a log"


def user() -> str:
    return f"u-{uuid.uuid4().hex[:8]}"


async def post(http: httpx.AsyncClient, stack: Stack, owner: str, kind: str, body: Any) -> Any:
    return await http.post(f"{stack.gateway_url}/v1/jobs/{kind}", json=body, headers=auth(owner))


async def uploaded(http: httpx.AsyncClient, stack: Stack, owner: str, data: bytes) -> str:
    files = {"file": ("input.png", data, "application/octet-stream")}
    answer = await http.post(f"{stack.gateway_url}/v1/uploads", files=files, headers=auth(owner))
    assert answer.status_code == 201, answer.text
    return str(answer.json()["asset_id"])


async def completed(http: httpx.AsyncClient, owner: str, answer: httpx.Response) -> Any:
    assert answer.status_code == 202, answer.text
    return await wait_for_status(http, answer.json()["status_url"], owner, "completed")


async def test_an_upload_is_upscaled_on_replicate_and_stored_by_darkroom(
    stack: Stack, servers: Servers
) -> None:
    owner = user()
    async with httpx.AsyncClient(timeout=30) as http:
        image = {"asset_id": await uploaded(http, stack, owner, png(60, 40))}
        body = {"image": image, "scale": 4, "provider": "replicate"}
        done = await completed(http, owner, await post(http, stack, owner, "upscale", body))
        [asset] = done["assets"]
        picture = (await http.get(asset["url"])).content
    assert done["params"]["model"] == "nightmareai/real-esrgan"
    assert (asset["width"], asset["height"], asset["content_type"]) == (240, 160, "image/png")
    assert Image.open(io.BytesIO(picture)).size == (240, 160)
    assert not asset["url"].startswith(servers[0].url)


async def test_videos_run_on_runway_from_an_image_and_on_replicate_from_a_prompt(
    stack: Stack,
) -> None:
    owner = user()
    async with httpx.AsyncClient(timeout=30) as http:
        image = {"asset_id": await uploaded(http, stack, owner, png(64, 36))}
        runway = {"prompt": "a pier", "images": [image], "duration_s": 4, "provider": "runway"}
        on_runway = await completed(http, owner, await post(http, stack, owner, "video", runway))
        minimax = {"prompt": "a tide", "provider": "replicate"}
        on_replicate = await completed(
            http, owner, await post(http, stack, owner, "video", minimax)
        )
        poster = (await http.get(on_runway["assets"][1]["url"])).content
    clip = on_runway["assets"][0]
    assert on_runway["params"]["model"] == "gen4_turbo"
    assert (clip["width"], clip["height"], clip["frames"], clip["duration_s"]) == (64, 36, 120, 5.0)
    assert Image.open(io.BytesIO(poster)).format == "JPEG"
    clip = on_replicate["assets"][0]
    assert on_replicate["params"]["model"] == "minimax/video-01"
    assert (clip["content_type"], clip["width"], clip["height"]) == ("video/mp4", 160, 90)


async def test_a_runway_refusal_fails_the_job_and_unknown_choices_are_422_on_their_field(
    stack: Stack,
) -> None:
    owner = user()
    async with httpx.AsyncClient(timeout=30) as http:
        image = {"asset_id": await uploaded(http, stack, owner, png(64, 36))}
        refused = await post(
            http, stack, owner, "video",
            {"prompt": "a forbidden scene", "images": [image], "provider": "runway"},
        )  # fmt: skip
        failed = await wait_for_status(http, refused.json()["status_url"], owner, "failed")
        unknown_model = await post(
            http, stack, owner, "video", {"prompt": "a pier", "provider": "runway", "model": "gen9"}
        )
        unknown_step = await post(
            http, stack, owner, "upscale",
            {"image": image, "then": [{"type": "variants", "provider": "dalle"}]},
        )  # fmt: skip
    assert failed["error"]["code"] == "content_refused"
    assert "SAFETY.INPUT.TEXT" in failed["error"]["message"]
    assert [r.status_code for r in (unknown_model, unknown_step)] == [422, 422]
    assert unknown_model.json()["detail"][0]["loc"] == ["body", "model"]
    assert unknown_step.json()["detail"][0]["loc"] == ["body", "then", 0, "provider"]
