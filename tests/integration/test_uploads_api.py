"""`POST /v1/uploads` in-process on a real SQLite file and local storage: what is accepted, what is
refused and with which status, and who may use an upload as a job input."""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from tests.fixtures.tokens import auth
from tests.integration.helpers import RunningGateway, random_user, running_gateway

pytestmark = pytest.mark.integration


@pytest.fixture
def gw(tmp_path: Path, kafka_bootstrap: str, topic_suffix: str) -> Iterator[RunningGateway]:
    with running_gateway(tmp_path, kafka_bootstrap, topic_suffix) as gateway:
        yield gateway


def encoded(fmt: str, size: tuple[int, int] = (40, 30)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (10, 200, 90)).save(buffer, fmt)
    return buffer.getvalue()


def png_declaring(width: int, height: int) -> bytes:
    """A PNG header declaring width x height, with a few bytes of pixels (a bomb's shape)."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 64)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")
    )


def post(gw: RunningGateway, user: str, data: bytes, name: str = "x.bin") -> tuple[int, dict]:  # type: ignore[type-arg]
    response = gw.client.post("/v1/uploads", files={"file": (name, data)}, headers=auth(user))
    return response.status_code, response.json()


@pytest.mark.parametrize(
    ("fmt", "content_type"), [("PNG", "image/png"), ("JPEG", "image/jpeg"), ("WEBP", "image/webp")]
)
def test_an_image_is_stored_and_described_whatever_its_file_name(
    gw: RunningGateway, fmt: str, content_type: str
) -> None:
    status, body = post(gw, random_user(), encoded(fmt), name="misleading.gif")

    assert status == 201, body
    assert (body["content_type"], body["width"], body["height"]) == (content_type, 40, 30)
    download = gw.client.get(body["url"].replace("http://gateway.test", ""))
    assert download.status_code == 200 and download.content == encoded(fmt)


def test_refusals_answer_413_415_or_422_with_the_reason_at_body_file(gw: RunningGateway) -> None:
    user = random_user()
    bomb_status, bomb = post(gw, user, png_declaring(30_000, 30_000))
    gif_status, gif = post(gw, user, encoded("GIF"))
    none = gw.client.post("/v1/uploads", data={"other": "x"}, headers=auth(user))
    huge = gw.client.post(
        "/v1/uploads",
        content=b"x" * 10,
        headers={
            **auth(user),
            "Content-Type": "multipart/form-data; boundary=b",
            "Content-Length": str(10**9),
        },
    )

    assert bomb_status == 422 and "900,000,000 pixels" in bomb["detail"][0]["msg"]
    assert bomb["detail"][0]["loc"] == ["body", "file"]
    assert gif_status == 415, gif
    assert none.status_code == 422, none.text
    assert huge.status_code == 413, huge.text


def test_an_upload_is_an_input_for_its_owner_only(gw: RunningGateway) -> None:
    owner = random_user()
    _, upload = post(gw, owner, encoded("PNG"))
    body = {"image": {"asset_id": upload["asset_id"]}, "scale": 2}

    mine = gw.client.post("/v1/jobs/upscale", json=body, headers=auth(owner))
    theirs = gw.client.post("/v1/jobs/upscale", json=body, headers=auth(random_user()))

    assert mine.status_code == 202, mine.text
    assert theirs.status_code == 422
    assert theirs.json()["detail"][0]["loc"] == ["body", "image", "asset_id"]


def png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png_of(width: int, height: int, idat: bytes, depth: int = 8, colour: int = 2) -> bytes:
    header = struct.pack(">IIBBBBB", width, height, depth, colour, 0, 0, 0)
    signature = b"\x89PNG\r\n\x1a\n"
    return (
        signature + png_chunk(b"IHDR", header) + png_chunk(b"IDAT", idat) + png_chunk(b"IEND", b"")
    )


def flat_png(width: int, height: int, depth: int = 8, colour: int = 2) -> bytes:
    """A real, fully decodable PNG of one colour, compressed row by row (the raw pixels of the
    sizes below are hundreds of MB; the file is a few hundred KB)."""
    channels = {0: 1, 2: 3, 6: 4}[colour]
    row = b"\x00" + b"\x7f" * (width * channels * depth // 8)
    deflate = zlib.compressobj(6)
    idat = b"".join(deflate.compress(row) for _ in range(height)) + deflate.flush()
    return png_of(width, height, idat, depth, colour)


def test_a_16_bit_rgba_png_of_36_mp_is_refused_for_what_it_decodes_to(gw: RunningGateway) -> None:
    data = flat_png(6000, 6000, depth=16, colour=6)  # the file: ~290 KB, 36 MP
    assert len(data) < 300_000

    status, body = post(gw, random_user(), data)

    assert status == 422, body
    assert body["detail"][0]["loc"] == ["body", "file"]
    assert body["detail"][0]["msg"] == (
        "image decodes to 288,000,000 bytes (6000x6000, 16-bit RGBA: 8 bytes a pixel); "
        "the limit is 160,000,000"
    )


def test_a_png_whose_pixel_data_is_broken_is_refused_at_upload(gw: RunningGateway) -> None:
    data = png_of(64, 64, b"\x78\x9c" + b"no deflate")  # good CRCs, but the IDAT is not zlib
    assert len(data) == 69

    status, body = post(gw, random_user(), data)

    assert status == 422, body
    assert body["detail"][0] == {
        "loc": ["body", "file"],
        "msg": "the PNG image is corrupt or truncated",
        "type": "value_error",
    }


def test_jobs_the_gateway_knows_are_too_large_are_refused_at_submit(gw: RunningGateway) -> None:
    user = random_user()
    big_status, big = post(gw, user, flat_png(8000, 5000))  # 40 MP of 8-bit RGB: accepted
    mid_status, mid = post(gw, user, flat_png(3000, 3000))
    assert (big_status, mid_status) == (201, 201), (big, mid)

    def submit(kind: str, body: dict) -> tuple[int, list]:  # type: ignore[type-arg]
        response = gw.client.post(f"/v1/jobs/{kind}", json=body, headers=auth(user))
        return response.status_code, response.json().get("detail", [])

    big_ref, mid_ref = {"asset_id": big["asset_id"]}, {"asset_id": mid["asset_id"]}
    video = submit("video", {"images": [big_ref] * 4})
    too_big = submit("upscale", {"image": big_ref, "scale": 2})
    scale_4 = submit("upscale", {"image": mid_ref, "scale": 4})
    scale_2 = submit("upscale", {"image": mid_ref, "scale": 2})

    assert video[0] == 422 and video[1][0]["loc"] == ["body", "images"], video
    assert "640,000,000 bytes together" in video[1][0]["msg"]
    assert too_big[0] == 422 and too_big[1][0]["loc"] == ["body", "image", "asset_id"], too_big
    assert scale_4[0] == 422 and scale_4[1][0]["loc"] == ["body", "scale"], scale_4
    assert scale_2[0] == 202, scale_2
