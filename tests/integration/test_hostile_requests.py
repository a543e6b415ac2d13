"""Hostile bodies get a 4xx that says what is wrong, never a 500 or a stack trace: numbers JSON
cannot carry and lone surrogates are 422s naming the field, a 422 echoes a short prefix of an
input, bodies over the limit are 413s before they are read (chunked ones stop being read at the
limit, uploads at INPUT_MAX_BYTES), and input URLs with a password are refused and not stored.

The gateway runs in-process on a migrated SQLite file (no broker: nothing here reaches Kafka);
httpx's ASGI transport pulls a streamed body chunk by chunk, so a test sees how much was read."""

from __future__ import annotations

import io
import json
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image

from darkroom.gateway.main import create_app
from darkroom.gateway.settings import GatewaySettings
from darkroom.runtime.db.migrate import upgrade
from tests.fixtures.db import run_in_thread
from tests.fixtures.tokens import auth

pytestmark = pytest.mark.integration

JSON_LIMIT = 64 * 1024
UPLOAD_LIMIT = 256 * 1024
CHUNK = 16 * 1024
JSON = {**auth("mallory"), "Content-Type": "application/json"}
NOT_JSON_NUMBERS = "a number that JSON cannot carry"


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    settings = GatewaySettings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'gateway.db'}",
        storage_local_root=tmp_path / "assets",
        public_base_url="http://gateway.test",
        notifier_public_url="http://notifier.test",
        kafka_bootstrap_servers="127.0.0.1:9",
        sweeper_enabled=False,
        max_body_bytes=JSON_LIMIT,
        input_max_bytes=UPLOAD_LIMIT,
    )
    run_in_thread(upgrade(settings))
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway.test") as http:
            yield http


class Streamed:
    """A body sent in chunks without a Content-Length (chunked), counting what the app pulled."""

    def __init__(self, head: bytes, filler: int, tail: bytes = b"") -> None:
        self.head, self.filler, self.tail, self.pulled = head, filler, tail, 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for chunk in self.chunks():
            self.pulled += len(chunk)
            yield chunk

    def chunks(self) -> list[bytes]:
        fill = [b"x" * CHUNK] * (self.filler // CHUNK)
        return [self.head, *fill, self.tail]


async def post_json(client: httpx.AsyncClient, path: str, raw: bytes) -> tuple[int, Any]:
    response = await client.post(path, content=raw, headers=JSON)
    return response.status_code, response.json()


@pytest.mark.parametrize(
    ("raw", "field", "echo"),
    [
        (b'{"prompt": "a", "seed": NaN}', "seed", "NaN"),
        (b'{"prompt": "a", "width": Infinity, "height": 512}', "width", "Infinity"),
        (b'{"prompt": "a", "num_images": 1e309}', "num_images", "Infinity"),
        (b'{"prompt": "a", "seed": -Infinity}', "seed", "-Infinity"),
    ],
)
async def test_a_number_json_cannot_carry_is_a_422_naming_the_field(
    client: httpx.AsyncClient, raw: bytes, field: str, echo: str
) -> None:
    status, body = await post_json(client, "/v1/jobs/image", raw)

    assert status == 422, body
    [error] = body["detail"]
    assert error["loc"] == ["body", field]
    assert error["msg"].startswith(NOT_JSON_NUMBERS)
    assert error["input"] == echo


@pytest.mark.parametrize(
    "raw",
    [b'{"prompt": "a\\ud800b"}', '{"prompt": "a\ud800b"}'.encode("utf-8", "surrogatepass")],
    ids=["escaped", "raw-bytes"],
)
async def test_a_lone_surrogate_is_a_422_saying_the_text_is_not_utf8(
    client: httpx.AsyncClient, raw: bytes
) -> None:
    status, body = await post_json(client, "/v1/jobs/image", raw)

    assert status == 422, body
    [error] = body["detail"]
    assert error["loc"] == ["body", "prompt"]
    assert error["msg"].startswith("not valid UTF-8 text")
    assert error["input"] == "a\\ud800b"


async def test_a_lone_surrogate_in_a_field_name_is_a_422_too(client: httpx.AsyncClient) -> None:
    status, body = await post_json(client, "/v1/jobs/image", b'{"prompt": "a", "\\udfff": 1}')

    assert status == 422, body
    [error] = body["detail"]
    assert error["loc"] == ["body"]  # pydantic refuses the name before it is a field's
    assert error["msg"].startswith("not valid UTF-8 text")
    assert error["input"] == "\\udfff"


async def test_a_422_echoes_a_short_prefix_of_a_long_input_and_readable_ctx(
    client: httpx.AsyncClient,
) -> None:
    prompts = json.dumps({"prompts": ["a"] * 10_000}).encode()
    long_prompt = json.dumps({"prompt": "x" * 50_000}).encode()

    _, many = await post_json(client, "/v1/jobs/batch", prompts)
    _, long = await post_json(client, "/v1/jobs/image", long_prompt)

    [too_many], [too_long] = many["detail"], long["detail"]
    assert too_many["loc"] == ["body", "prompts"] and too_many["type"] == "too_long"
    assert too_many["input"] == ["a"] * 10 + ["…"]
    assert too_long["input"] == "x" * 200 + "…"
    assert too_long["ctx"] == {"max_length": 2000}
    assert len(json.dumps(many)) < 2_000 and len(json.dumps(long)) < 2_000


async def test_a_body_announced_over_the_limit_is_a_413_before_a_byte_is_read(
    client: httpx.AsyncClient,
) -> None:
    body = Streamed(b'{"prompts": [', 4 * JSON_LIMIT)
    headers = {**JSON, "Content-Length": str(len(b"".join(body.chunks())))}

    response = await client.post("/v1/jobs/batch", content=body, headers=headers)

    assert response.status_code == 413, response.text  # Starlette's own, in plain text
    assert body.pulled == 0


async def test_a_chunked_body_stops_being_read_at_the_limit(client: httpx.AsyncClient) -> None:
    body = Streamed(b'{"prompts": [', 10 * 1024 * 1024)

    response = await client.post("/v1/jobs/batch", content=body, headers=JSON)

    assert response.status_code == 413, response.text
    assert response.json()["detail"] == f"the request body is larger than {JSON_LIMIT:,} bytes"
    assert body.pulled <= JSON_LIMIT + CHUNK


def multipart(data: bytes, boundary: str = "b0undary") -> tuple[bytes, bytes, dict[str, str]]:
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="x.png"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode() + data
    headers = {**auth("mallory"), "Content-Type": f"multipart/form-data; boundary={boundary}"}
    return head, f"\r\n--{boundary}--\r\n".encode(), headers


async def test_a_chunked_upload_stops_being_read_at_input_max_bytes(
    client: httpx.AsyncClient,
) -> None:
    head, tail, headers = multipart(b"\x89PNG\r\n\x1a\n")
    body = Streamed(head, 64 * UPLOAD_LIMIT, tail)

    response = await client.post("/v1/uploads", content=body, headers=headers)

    assert response.status_code == 413, response.text
    [error] = response.json()["detail"]
    assert error["loc"] == ["body", "file"]
    assert error["msg"] == f"the file is larger than {UPLOAD_LIMIT:,} bytes"
    assert body.pulled <= UPLOAD_LIMIT + 64 * 1024 + CHUNK


async def test_an_upload_larger_than_the_json_limit_is_still_accepted(
    client: httpx.AsyncClient,
) -> None:
    buffer = io.BytesIO()
    Image.frombytes("RGB", (150, 150), os.urandom(150 * 150 * 3)).save(buffer, "PNG")
    assert JSON_LIMIT < len(buffer.getvalue()) < UPLOAD_LIMIT
    head, tail, headers = multipart(buffer.getvalue())

    response = await client.post("/v1/uploads", content=head + tail, headers=headers)

    assert response.status_code == 201, response.text


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("http://", "has no host"),
        ("http://[::1", "not a valid URL"),
        ("ftp://x", "only http and https"),
        ("http://user:pass@host/a.png", "user name or password"),
    ],
)
async def test_an_input_url_the_gateway_can_judge_is_refused_at_submit_and_not_stored(
    client: httpx.AsyncClient, url: str, words: str
) -> None:
    raw = json.dumps({"image": {"url": url}}).encode()

    status, body = await post_json(client, "/v1/jobs/upscale", raw)
    listing = await client.get("/v1/jobs", headers=auth("mallory"))

    assert status == 422, body
    [error] = body["detail"]
    assert error["loc"] == ["body", "image", "url"]
    assert words in error["msg"]
    assert listing.json()["items"] == []
