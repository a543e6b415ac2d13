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
