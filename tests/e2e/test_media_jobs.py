"""Upscale, video, batch and chain jobs, uploads and input URLs, through real processes: gateway,
relay, projector, image, upscale and video workers, notifier, on a real broker; inputs served by
a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import asyncio
import io
import struct
import uuid
import zlib
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import av
import httpx
import pytest
from aiohttp import web
from PIL import Image

from darkroom.runtime.embedded.stack import MEDIA_WORKERS, SERVICES, Stack, free_port
from tests.e2e.client import follow, wait_for_status
from tests.fixtures.tokens import auth

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(240)]

FAIL = "[fail]"  # the image worker refuses prompts containing it (LOCAL_PROVIDER_FAIL_MARKER)
TERMINAL = {"completed", "completed_with_errors", "failed", "cancelled"}


def user() -> str:
    return f"u-{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="module")
def media_stack(kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    workdir: Path = tmp_path_factory.mktemp("media")
    stack = Stack.configure(
        workdir,
        kafka_bootstrap,
        suffix=workdir.name.replace("_", "-"),
        LOCAL_PROVIDER_FAIL_MARKER=FAIL,
        LOCAL_PROVIDER_STEP_DELAY_S="0.1",
        INPUT_FETCH_TIMEOUT_S="5",
        INPUT_MAX_PIXELS="40000000",
    )
    stack.migrate()
    stack.start(*SERVICES, *MEDIA_WORKERS)
    yield stack
    stack.stop_all()


def png(width: int, height: int, colour: tuple[int, int, int] = (200, 80, 40)) -> bytes:
    image = Image.new("RGB", (width, height), colour)
    for x in range(0, width, 7):  # some detail, so the resample has edges to keep
        for y in range(height):
            image.putpixel((x, y), (20, 20, 20))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def decompression_bomb(side: int = 12_000) -> bytes:
    """A real PNG of side x side black pixels (144 MP): ~140 KB on the wire, 144 MB decoded."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    packer, row = zlib.compressobj(9), b"\x00" * (side + 1)
    data = b"".join(packer.compress(row) for _ in range(side)) + packer.flush()
    header = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data) + chunk(b"IEND", b"")
    )


@pytest.fixture(scope="module")
async def image_server() -> AsyncIterator[str]:
    """A web server on 127.0.0.1 with an image, redirects to private and metadata addresses,
    and a decompression bomb."""
    photo, bomb = png(48, 32), decompression_bomb()

    async def serve_photo(_: web.Request) -> web.Response:
        return web.Response(body=photo, content_type="image/png")

    async def serve_bomb(_: web.Request) -> web.Response:
        return web.Response(body=bomb, content_type="image/png")

    def redirect(to: str) -> Any:
        async def handler(_: web.Request) -> web.Response:
            raise web.HTTPFound(to)

        return handler

    app = web.Application()
    app.router.add_get("/photo.png", serve_photo)
    app.router.add_get("/bomb.png", serve_bomb)
    app.router.add_get("/to-private", redirect("http://10.20.30.40/photo.png"))
    app.router.add_get("/to-metadata", redirect("http://169.254.169.254/latest/meta-data/"))
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    yield f"http://127.0.0.1:{port}"
    await runner.cleanup()


async def upload(http: httpx.AsyncClient, stack: Stack, owner: str, data: bytes) -> httpx.Response:
    files = {"file": ("input.png", data, "application/octet-stream")}
    return await http.post(f"{stack.gateway_url}/v1/uploads", files=files, headers=auth(owner))


async def post(
    http: httpx.AsyncClient, stack: Stack, owner: str, kind: str, body: dict[str, Any]
) -> dict[str, Any]:
    response = await http.post(
        f"{stack.gateway_url}/v1/jobs/{kind}", json=body, headers=auth(owner)
    )
    assert response.status_code == 202, response.text
    return response.json()  # type: ignore[no-any-return]


async def finished(http: httpx.AsyncClient, job: dict[str, Any], owner: str) -> dict[str, Any]:
    """The job once it has ended, whatever way."""
    for _ in range(1200):
        view = (await http.get(job["status_url"], headers=auth(owner))).json()
        if view["status"] in TERMINAL:
            return view  # type: ignore[no-any-return]
        await asyncio.sleep(0.1)
    raise AssertionError(f"still {view['status']}: {view}")


async def download(http: httpx.AsyncClient, asset: dict[str, Any]) -> bytes:
    response = await http.get(asset["url"])
    assert response.status_code == 200, response.text
    assert len(response.content) == asset["bytes"]
    return response.content


async def test_an_upload_is_upscaled_by_exactly_2_and_4_and_the_outputs_decode(
    media_stack: Stack,
) -> None:
    owner = user()
    async with httpx.AsyncClient(timeout=30) as http:
        uploaded = await upload(http, media_stack, owner, png(120, 90))
        assert uploaded.status_code == 201, uploaded.text
        asset_id = uploaded.json()["asset_id"]
        assert (uploaded.json()["width"], uploaded.json()["height"]) == (120, 90)
        jobs = [
            await post(
                http,
                media_stack,
                owner,
                "upscale",
                {"image": {"asset_id": asset_id}, "scale": scale, "format": fmt},
            )
            for scale, fmt in ((2, "png"), (4, "webp"))
        ]
        views = [await finished(http, job, owner) for job in jobs]
        for view, (scale, fmt) in zip(views, ((2, "png"), (4, "webp")), strict=True):
            assert view["status"] == "completed", view
            [asset] = view["assets"]
            assert (asset["width"], asset["height"]) == (120 * scale, 90 * scale)
            decoded = Image.open(io.BytesIO(await download(http, asset)))
            assert decoded.format == fmt.upper() and decoded.size == (120 * scale, 90 * scale)
        stranger = await http.post(
            f"{media_stack.gateway_url}/v1/jobs/upscale",
            json={"image": {"asset_id": asset_id}},
            headers=auth(user()),
        )
    assert stranger.status_code == 422
    assert stranger.json()["detail"][0]["loc"] == ["body", "image", "asset_id"]


async def test_uploads_that_are_not_usable_images_are_refused_with_the_reason(
    media_stack: Stack,
) -> None:
    owner = user()
    async with httpx.AsyncClient(timeout=30) as http:
        bomb = await upload(http, media_stack, owner, decompression_bomb())
        text = await upload(http, media_stack, owner, b"GIF89a not really an image")
        empty = await upload(http, media_stack, owner, b"")
    assert bomb.status_code == 422, bomb.text
    assert "144,000,000 pixels" in bomb.json()["detail"][0]["msg"]
    assert text.status_code == 415, text.text
    assert empty.status_code == 422, empty.text


async def test_a_url_on_loopback_is_refused_by_default_and_fetched_once_loopback_is_allowed(
    media_stack: Stack, image_server: str
) -> None:
    owner = user()
    body = {"image": {"url": f"{image_server}/photo.png"}, "scale": 2}
    async with httpx.AsyncClient(timeout=30) as http:
        refused = await finished(http, await post(http, media_stack, owner, "upscale", body), owner)
        assert refused["status"] == "failed", refused
        assert refused["error"]["code"] == "input_refused"
        assert (
            "127.0.0.1" in refused["error"]["message"] and "loopback" in refused["error"]["message"]
        )

        # The same worker, restarted by an operator who explicitly allows loopback (a local demo).
        media_stack.stop("upscale-worker")
        default_env = media_stack.env
        media_stack.env = {**default_env, "INPUT_FETCH_ALLOW_LOOPBACK": "true"}
        try:
            media_stack.start("upscale-worker")
            fetched = await finished(
                http, await post(http, media_stack, owner, "upscale", body), owner
            )
            assert fetched["status"] == "completed", fetched
            assert (fetched["assets"][0]["width"], fetched["assets"][0]["height"]) == (96, 64)

            # Loopback allowed still means nothing else: a redirect to a private or metadata
            # address is refused after the redirect, before any connection to it.
            for path, words in (
                ("/to-private", "10.20.30.40"),
                ("/to-metadata", "169.254.169.254"),
            ):
                redirected = {"image": {"url": f"{image_server}{path}"}}
                view = await finished(
                    http, await post(http, media_stack, owner, "upscale", redirected), owner
                )
                assert view["status"] == "failed", view
                assert (
                    view["error"]["code"] == "input_refused" and words in view["error"]["message"]
                )

            bomb = {"image": {"url": f"{image_server}/bomb.png"}}
            view = await finished(
                http, await post(http, media_stack, owner, "upscale", bomb), owner
            )
            assert view["status"] == "failed" and view["error"]["code"] == "input_refused", view
            assert "pixels" in view["error"]["message"]
        finally:
            media_stack.stop("upscale-worker")
            media_stack.env = default_env
            media_stack.start("upscale-worker")


async def test_a_2_second_video_decodes_with_the_expected_frames_and_size(
    media_stack: Stack,
) -> None:
    owner = user()
    body = {
        "prompt": "a lighthouse at dusk",
        "duration_s": 2,
        "fps": 12,
        "resolution": "480p",
        "aspect_ratio": "4:3",
    }
    async with httpx.AsyncClient(timeout=30) as http:
        job = await post(http, media_stack, owner, "video", body)
        events = await follow(http, job["events_url"], auth(owner), timeout_s=120)
        view = await wait_for_status(http, job["status_url"], owner, "completed")
        clip, poster = view["assets"]
        mp4 = await download(http, clip)
        poster_image = Image.open(io.BytesIO(await download(http, poster)))
    assert (clip["content_type"], clip["frames"], clip["duration_s"]) == ("video/mp4", 24, 2.0)
    with av.open(io.BytesIO(mp4)) as container:
        stream = container.streams.video[0]
        frames = list(container.decode(stream))
        assert stream.codec_context.name == "h264"
    assert len(frames) == 24 and (frames[0].width, frames[0].height) == (640, 480)
    assert poster_image.format == "JPEG" and poster_image.size == (640, 480)
    notes = [e.data["message"] for e in events if e.event == "job.progress"]
    assert any(note.startswith("frame ") for note in notes), notes  # progress as frames encode


async def test_a_batch_of_10_with_2_failures_ends_completed_with_errors_listing_them(
    media_stack: Stack,
) -> None:
    owner = user()
    prompts = [f"tile {i}" if i not in (3, 7) else f"tile {i} {FAIL}" for i in range(10)]
    async with httpx.AsyncClient(timeout=30) as http:
        batch = await post(
            http, media_stack, owner, "batch", {"prompts": prompts, "width": 64, "height": 64}
        )
        assert batch["type"] == "batch" and len(batch["children"]) == 10
        events = await follow(http, batch["events_url"], auth(owner), timeout_s=120)
        view = await finished(http, batch, owner)
        children = set(batch["children"])
    assert view["status"] == "completed_with_errors", view
    failed = {c["job_id"] for c in view["children"] if c["status"] == "failed"}
    assert failed == {batch["children"][3], batch["children"][7]}
    assert len(view["assets"]) == 8 and view["progress"] == 100
    terminal = events[-1]
    assert terminal.event == "job.completed_with_errors"
    assert {f["job_id"] for f in terminal.data["failed_children"]} == failed
    # The parent's stream carried its children's events too.
    assert {e.data["job_id"] for e in events if e.data["job_id"] != batch["job_id"]} == children


async def test_a_chain_image_then_upscale_then_variants_makes_the_six_files(
    media_stack: Stack,
) -> None:
    owner = user()
    body = {
        "prompt": "a red kite over dunes",
        "width": 512,
        "height": 384,
        "then": [{"type": "upscale", "scale": 4, "format": "png"}, {"type": "variants"}],
    }
    async with httpx.AsyncClient(timeout=60) as http:
        chain = await post(http, media_stack, owner, "image", body)
        assert chain["type"] == "chain"
        view = await finished(http, chain, owner)
        assert view["status"] == "completed", view
        assert [c["type"] for c in view["children"]] == ["image", "upscale", "variants"]
        assert all(c["status"] == "completed" for c in view["children"])
        upscaled = (
            await http.get(
                f"{media_stack.gateway_url}/v1/jobs/{view['children'][1]['job_id']}",
                headers=auth(owner),
            )
        ).json()
        files = [(a["width"], a["content_type"]) for a in view["assets"]]
        decoded = [Image.open(io.BytesIO(await download(http, a))) for a in view["assets"]]
    assert upscaled["parent_id"] == chain["job_id"]
    assert (upscaled["assets"][0]["width"], upscaled["assets"][0]["height"]) == (2048, 1536)
    assert files == [
        (640, "image/webp"),
        (640, "image/avif"),
        (1024, "image/webp"),
        (1024, "image/avif"),
        (1920, "image/webp"),
        (1920, "image/avif"),
    ]
    assert [im.size for im in decoded] == [
        (w, w * 3 // 4) for w in (640, 640, 1024, 1024, 1920, 1920)
    ]


async def test_a_failed_step_fails_the_chain_naming_the_step(media_stack: Stack) -> None:
    owner = user()
    body = {"prompt": f"a storm {FAIL}", "width": 64, "height": 64, "then": [{"type": "variants"}]}
    async with httpx.AsyncClient(timeout=30) as http:
        view = await finished(http, await post(http, media_stack, owner, "image", body), owner)
    assert view["status"] == "failed", view
    assert view["error"]["code"] == "step_failed"
    assert view["error"]["message"].startswith("step 1 of 2 (image")
    assert [c["type"] for c in view["children"]] == ["image"]  # no step after a failed one


async def test_cancelling_a_batch_midway_cancels_its_waiting_and_running_children(
    media_stack: Stack,
) -> None:
    owner = user()
    prompts = [f"frame {i}" for i in range(24)]
    async with httpx.AsyncClient(timeout=30) as http:
        batch = await post(
            http, media_stack, owner, "batch", {"prompts": prompts, "width": 64, "height": 64}
        )
        for _ in range(600):
            view = (await http.get(batch["status_url"], headers=auth(owner))).json()
            if any(c["status"] == "completed" for c in view["children"]):
                break
            await asyncio.sleep(0.05)
        cancelled = await http.delete(batch["status_url"], headers=auth(owner))
        assert cancelled.status_code == 200, cancelled.text
        assert cancelled.json()["outcome"] == "cancelled"
        for _ in range(600):
            view = (await http.get(batch["status_url"], headers=auth(owner))).json()
            if all(c["status"] in TERMINAL for c in view["children"]):
                break
            await asyncio.sleep(0.1)
        later = (await http.get(batch["status_url"], headers=auth(owner))).json()
    statuses = [c["status"] for c in view["children"]]
    assert view["status"] == "cancelled"
    assert set(statuses) <= {"completed", "cancelled"}, statuses
    assert statuses.count("cancelled") >= 10, statuses  # most had not run yet
    assert later["status"] == "cancelled"  # children ending later did not move it
