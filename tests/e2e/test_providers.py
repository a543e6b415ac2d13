"""Jobs of every type on every provider through the whole stack, each hosted one against a
local server that implements its documented API, and a plug-in package installed beside Darkroom
(the example of docs/examples/provider-plugin, on the services' PYTHONPATH). One stack serves
them all: GET /v1/models lists them configured; an image job naming each completes with that
provider's picture stored by Darkroom; an upload is upscaled by Real-ESRGAN on Replicate; videos
are made by Runway (from an image) and by MiniMax on Replicate (from a prompt), each stored as
the file says; a refusal is the job's content_refused with the provider's words; a provider or
model the deployment lacks, for a job or a chain step, is a 422 on that field; no API key
reaches a log."""

from __future__ import annotations

import hashlib
import io
import signal
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from PIL import Image

from tests.e2e.client import submit, wait_for_status
from tests.fixtures import (
    fake_bfl,
    fake_comfyui,
    fake_fal,
    fake_google,
    fake_openai,
    fake_replicate,
    fake_runpod,
    fake_runway,
)
from tests.fixtures.media import png
from tests.fixtures.plugins import install_example_plugin
from tests.fixtures.procs import MEDIA_WORKERS, SERVICES, Stack
from tests.fixtures.tokens import auth

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(180)]

ACME_KEY = "acme-key-4f7c1b2e9d"
KEYS = (
    ACME_KEY,
    fake_openai.API_KEY,
    fake_bfl.API_KEY,
    fake_replicate.API_TOKEN,
    fake_google.API_KEY,
    fake_fal.API_KEY,
    fake_runpod.API_KEY,
    fake_runway.API_KEY,
)


@dataclass(frozen=True)
class Servers:
    openai: fake_openai.FakeOpenAI
    bfl: fake_bfl.FakeBfl
    replicate: fake_replicate.FakeReplicate
    google: fake_google.FakeGoogle
    fal: fake_fal.FakeFal
    runpod: fake_runpod.FakeRunpod
    comfyui: fake_comfyui.FakeComfyui
    runway: fake_runway.FakeRunway


@pytest.fixture(scope="module")
def servers() -> Iterator[Servers]:
    running = (
        fake_openai.serve_fake_openai(),
        fake_bfl.serve_fake_bfl(),
        fake_replicate.serve_fake_replicate(),
        fake_google.serve_fake_google(),
        fake_fal.serve_fake_fal(),
        fake_runpod.serve_fake_runpod(),
        fake_comfyui.serve_fake_comfyui(),
        fake_runway.serve_fake_runway(),
    )
    yield Servers(*(next(server) for server in running))  # type: ignore[arg-type]
    for server in running:
        server.close()


@pytest.fixture(scope="module")
def stack(
    kafka_bootstrap: str,
    tmp_path_factory: pytest.TempPathFactory,
    servers: Servers,
) -> Iterator[Stack]:
    workdir = tmp_path_factory.mktemp("providers")
    plugins = install_example_plugin(workdir / "plugins")
    stack = Stack.configure(
        workdir,
        kafka_bootstrap,
        suffix=f"prov-{uuid.uuid4().hex[:8]}",
        PYTHONPATH=str(plugins),
        ACME_API_KEY=ACME_KEY,
        OPENAI_API_KEY=fake_openai.API_KEY,
        OPENAI_BASE_URL=servers.openai.url,
        BFL_API_KEY=fake_bfl.API_KEY,
        BFL_BASE_URL=servers.bfl.url,
        BFL_POLL_INTERVAL_S="0.05",
        REPLICATE_API_TOKEN=fake_replicate.API_TOKEN,
        REPLICATE_BASE_URL=servers.replicate.url,
        REPLICATE_POLL_INTERVAL_S="0.05",
        GOOGLE_API_KEY=fake_google.API_KEY,
        GOOGLE_BASE_URL=servers.google.url,
        FAL_KEY=fake_fal.API_KEY,
        FAL_QUEUE_URL=servers.fal.url,
        FAL_POLL_INTERVAL_S="0.05",
        RUNPOD_API_KEY=fake_runpod.API_KEY,
        RUNPOD_ENDPOINT_ID=fake_runpod.ENDPOINT_ID,
        RUNPOD_BASE_URL=servers.runpod.url,
        RUNPOD_POLL_INTERVAL_S="0.05",
        RUNWAY_API_KEY=fake_runway.API_KEY,
        RUNWAY_BASE_URL=servers.runway.url,
        RUNWAY_POLL_INTERVAL_S="0.05",
        RUNWAY_POLL_MAX_INTERVAL_S="0.1",
        COMFYUI_URL=servers.comfyui.url,
        COMFYUI_POLL_INTERVAL_S="0.05",
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


async def test_the_catalog_lists_every_installed_provider_configured(stack: Stack) -> None:
    async with httpx.AsyncClient(timeout=30) as http:
        answer = await http.get(f"{stack.gateway_url}/v1/models", headers=auth(user()))
    providers = {p["name"]: p for p in answer.json()["providers"]}
    names = "acme bfl comfyui fal google local openai replicate runpod runway".split()
    assert {name: p["configured"] for name, p in providers.items()} == dict.fromkeys(names, True)
    assert providers["openai"]["models"][0]["name"] == "gpt-image-1"
    assert providers["acme"]["models"][0]["cost_usd"] == 0.01


async def test_a_plug_in_package_runs_jobs_and_unknown_choices_are_422_on_their_field(
    stack: Stack,
) -> None:
    owner, prompt = user(), "a red kite over the dunes"
    async with httpx.AsyncClient(timeout=30) as http:
        job = await submit(http, stack.gateway_url, owner, prompt=prompt, provider="acme")
        done = await wait_for_status(http, job["status_url"], owner, "completed")
        picture = (await http.get(done["assets"][0]["url"])).content
        refusals = [
            await http.post(
                f"{stack.gateway_url}/v1/jobs/image",
                json={"prompt": prompt, **body},
                headers=auth(owner),
            )
            for body in ({"provider": "acme", "model": "flat-9"}, {"provider": "dalle"})
        ]
    assert done["params"]["model"] == "flat-1"
    colour = tuple(hashlib.sha256(prompt.encode()).digest()[:3])
    assert Image.open(io.BytesIO(picture)).getpixel((0, 0)) == colour
    assert [r.status_code for r in refusals] == [422, 422]
    assert [r.json()["detail"][0]["loc"] for r in refusals] == [
        ["body", "model"],
        ["body", "provider"],
    ]


async def test_openai_jobs_complete_at_the_models_size_and_a_refusal_fails_the_job(
    stack: Stack, servers: Servers
) -> None:
    owner = user()
    async with httpx.AsyncClient(timeout=30) as http:
        job = await submit(
            http, stack.gateway_url, owner, provider="openai", aspect_ratio="16:9", num_images=2
        )
        done = await wait_for_status(http, job["status_url"], owner, "completed")
        picture = (await http.get(done["assets"][0]["url"])).content
        refused = await submit(
            http, stack.gateway_url, owner, prompt="a forbidden scene", provider="openai"
        )
        failed = await wait_for_status(http, refused["status_url"], owner, "failed")
    assert [(a["width"], a["height"]) for a in done["assets"]] == [(1536, 1024)] * 2
    assert Image.open(io.BytesIO(picture)).size == (1536, 1024)
    assert servers.openai.received[0].body["size"] == "1536x1024"
    assert failed["error"]["code"] == "content_refused"
    assert "safety system" in failed["error"]["message"]


async def test_bfl_jobs_complete_with_the_downloaded_result_and_moderation_fails_the_job(
    stack: Stack, servers: Servers
) -> None:
    owner, bfl = user(), servers.bfl
    async with httpx.AsyncClient(timeout=30) as http:
        job = await submit(http, stack.gateway_url, owner, provider="bfl", aspect_ratio="4:3")
        done = await wait_for_status(http, job["status_url"], owner, "completed")
        moderated = await submit(
            http, stack.gateway_url, owner, prompt="a forbidden scene", provider="bfl"
        )
        failed = await wait_for_status(http, moderated["status_url"], owner, "failed")
    assert done["params"]["model"] == "flux-pro-1.1"
    assert [(a["width"], a["height"]) for a in done["assets"]] == [(1152, 896)]
    assert not done["assets"][0]["url"].startswith(bfl.url)  # stored by Darkroom
    assert failed["error"]["code"] == "content_refused"
    assert "Content Moderated" in failed["error"]["message"]


async def test_replicate_jobs_complete_from_their_prediction_and_a_safety_failure_fails_the_job(
    stack: Stack, servers: Servers
) -> None:
    owner, replicate = user(), servers.replicate
    async with httpx.AsyncClient(timeout=30) as http:
        job = await submit(
            http, stack.gateway_url, owner, provider="replicate", aspect_ratio="16:9"
        )
        done = await wait_for_status(http, job["status_url"], owner, "completed")
        refused = await submit(
            http, stack.gateway_url, owner, prompt="an nsfw scene", provider="replicate"
        )
        failed = await wait_for_status(http, refused["status_url"], owner, "failed")
    assert done["params"]["model"] == "black-forest-labs/flux-schnell"
    assert [(a["width"], a["height"]) for a in done["assets"]] == [(1344, 768)]
    assert not done["assets"][0]["url"].startswith(replicate.url)
    assert failed["error"]["code"] == "content_refused"
    assert "NSFW content detected" in failed["error"]["message"]


@pytest.mark.parametrize(
    ("provider", "model", "refusal", "code", "words"),
    [
        (
            "google",
            "gemini-2.5-flash-image",
            "a forbidden scene",
            "content_refused",
            "IMAGE_SAFETY",
        ),
        ("fal", "fal-ai/flux/schnell", "a forbidden scene", "content_refused", "safety checker"),
        ("runpod", "endpoint", "a forbidden scene", "content_refused", "NSFW content detected"),
        ("comfyui", "workflow", "a crash", "invalid_input", "KSampler"),
    ],
)
async def test_each_other_provider_completes_a_job_and_fails_one_with_its_own_words(
    stack: Stack, servers: Servers, provider: str, model: str, refusal: str, code: str, words: str
) -> None:
    owner = user()
    async with httpx.AsyncClient(timeout=30) as http:
        job = await submit(http, stack.gateway_url, owner, provider=provider, aspect_ratio="16:9")
        done = await wait_for_status(http, job["status_url"], owner, "completed")
        picture = (await http.get(done["assets"][0]["url"])).content
        refused = await submit(http, stack.gateway_url, owner, prompt=refusal, provider=provider)
        failed = await wait_for_status(http, refused["status_url"], owner, "failed")
    assert done["params"]["model"] == model
    size = (done["assets"][0]["width"], done["assets"][0]["height"])
    assert size == (1344, 768) and Image.open(io.BytesIO(picture)).size == size
    assert not done["assets"][0]["url"].startswith(getattr(servers, provider).url)
    assert failed["error"]["code"] == code
    assert words in failed["error"]["message"]


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
    assert not asset["url"].startswith(servers.replicate.url)


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
