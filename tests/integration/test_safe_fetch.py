"""fetch_url against a real HTTP server on 127.0.0.1: address checks per hop, limits, statuses.

Loopback is refused by default, so most tests allow it for the server's own address; the
redirect tests then point a second hop at addresses that stay refused (private, metadata). The
injectable resolver stands in for DNS, so no test needs the public internet.
"""

import asyncio
import io
import json
import re
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from aiohttp import web
from PIL import Image

from darkroom.media.fetch import FetchFailed, FetchPolicy, FetchRefused, Resolver, fetch_url

pytestmark = pytest.mark.integration

LOCAL = FetchPolicy(allow_loopback=True, timeout_s=5.0)
SMALL = FetchPolicy(allow_loopback=True, max_bytes=1024)


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (16, 16), (200, 30, 30)).save(out, "PNG")
    return out.getvalue()


PNG = _png()


def _app(release: asyncio.Event) -> web.Application:
    async def redirect(request: web.Request) -> web.Response:
        raise web.HTTPFound(request.query["to"], headers={"Set-Cookie": "session=abc; Path=/"})

    async def hop(request: web.Request) -> web.Response:
        left = int(request.match_info["left"])
        raise web.HTTPFound(f"/hop/{left - 1}" if left else "/image.png")

    async def headers(request: web.Request) -> web.Response:
        seen = {name: request.headers.get(name) for name in ("Host", "User-Agent", "Cookie")}
        return web.json_response(seen, headers={"Set-Cookie": "session=abc; Path=/"})

    async def chunked(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        response.enable_chunked_encoding()
        await response.prepare(request)
        for _ in range(8):
            await response.write(b"\0" * 512)
        return response

    async def slow(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Length": "100"})
        await response.prepare(request)
        await response.write(b"\0" * 10)
        await release.wait()  # never answers the rest while the test runs
        return response

    app = web.Application()
    app.router.add_get("/image.png", _answer(200, PNG))
    app.router.add_get("/redirect", redirect)
    app.router.add_get("/hop/{left}", hop)
    app.router.add_get("/headers", headers)
    app.router.add_get("/big", _answer(200, b"\0" * 4096))
    app.router.add_get("/chunked", chunked)
    app.router.add_get("/slow", slow)
    app.router.add_get("/gzip", _answer(200, PNG, {"Content-Encoding": "gzip"}))
    for status in (404, 429, 503):
        app.router.add_get(f"/status/{status}", _answer(status, b"no"))
    return app


def _answer(
    status: int, body: bytes, headers: dict[str, str] | None = None
) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def handler(_: web.Request) -> web.Response:
        return web.Response(status=status, body=body, content_type="image/png", headers=headers)

    return handler


@pytest.fixture(scope="module")
async def server() -> AsyncIterator[str]:
    """Base URL of a fresh server on a free port of 127.0.0.1."""
    release = asyncio.Event()
    runner = web.AppRunner(_app(release))
    await runner.setup()
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    await web.SockSite(runner, sock).start()
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        release.set()
        await runner.cleanup()


def resolving(answers: dict[str, list[str]]) -> Resolver:
    async def resolver(host: str, port: int) -> list[str]:
        return answers[host]

    return resolver


async def test_loopback_is_refused_by_default_naming_the_address(server: str) -> None:
    with pytest.raises(FetchRefused, match=r"127\.0\.0\.1 is a loopback address"):
        await fetch_url(f"{server}/image.png", FetchPolicy())


async def test_with_loopback_allowed_the_exact_bytes_come_back(server: str) -> None:
    assert await fetch_url(f"{server}/image.png", LOCAL) == PNG


async def test_a_name_is_fetched_from_its_checked_address_with_its_own_host_header(
    server: str,
) -> None:
    port = server.rsplit(":", 1)[1]
    resolver = resolving({"images.example": ["127.0.0.1"]})

    body = await fetch_url(f"http://images.example:{port}/headers", LOCAL, resolver=resolver)

    seen = json.loads(body)
    assert seen == {
        "Host": f"images.example:{port}",
        "User-Agent": "Darkroom/0.1 (+image fetch)",
        "Cookie": None,
    }


async def test_no_cookie_set_by_one_hop_is_sent_to_the_next(server: str) -> None:
    body = await fetch_url(f"{server}/redirect?to=/headers", LOCAL)

    assert json.loads(body)["Cookie"] is None


async def test_a_name_that_resolves_to_loopback_is_refused_naming_the_name(server: str) -> None:
    resolver = resolving({"images.example": ["127.0.0.1"]})

    with pytest.raises(FetchRefused) as refused:
        await fetch_url("http://images.example/x.png", FetchPolicy(), resolver=resolver)

    assert str(refused.value) == (
        "refused: 127.0.0.1 (address of images.example) is a loopback address"
    )


async def test_a_name_with_one_public_and_one_loopback_address_is_refused() -> None:
    resolver = resolving({"images.example": ["93.184.215.14", "127.0.0.1"]})

    with pytest.raises(FetchRefused, match=r"127\.0\.0\.1 \(address of images\.example\)"):
        await fetch_url("http://images.example/x.png", FetchPolicy(), resolver=resolver)


@pytest.mark.parametrize(
    ("target", "words"),
    [
        ("http://169.254.169.254/latest/meta-data/", "169.254.169.254 is a cloud metadata address"),
        ("http://10.0.0.1/x", "10.0.0.1 is a private address"),
        ("http://[::ffff:169.254.169.254]/", "is a cloud metadata address"),
        ("http://internal.example/x", "10.1.2.3 (address of internal.example) is a private"),
    ],
)
async def test_a_redirect_from_an_allowed_hop_to_a_refused_address_is_refused(
    server: str, target: str, words: str
) -> None:
    resolver = resolving({"internal.example": ["10.1.2.3"]})

    with pytest.raises(FetchRefused, match=re.escape(words)):
        await fetch_url(f"{server}/redirect?to={target}", LOCAL, resolver=resolver)


async def test_a_redirect_to_the_metadata_address_is_refused_even_with_private_allowed(
    server: str,
) -> None:
    everything = FetchPolicy(allow_loopback=True, allow_private=True)

    with pytest.raises(FetchRefused, match="cloud metadata address"):
        await fetch_url(f"{server}/redirect?to=http://169.254.169.254/latest/", everything)


async def test_a_redirect_to_another_scheme_is_refused(server: str) -> None:
    with pytest.raises(FetchRefused, match="only http and https"):
        await fetch_url(f"{server}/redirect?to=file:///etc/passwd", LOCAL)


async def test_up_to_max_redirects_are_followed(server: str) -> None:
    assert await fetch_url(f"{server}/hop/2", LOCAL) == PNG  # three redirects in all


async def test_more_redirects_than_allowed_are_refused(server: str) -> None:
    with pytest.raises(FetchRefused, match="more than 3 redirects"):
        await fetch_url(f"{server}/hop/3", LOCAL)


async def test_a_body_declared_too_large_is_refused_before_reading(server: str) -> None:
    with pytest.raises(FetchRefused, match=r"limit of 1,024 bytes \(Content-Length: 4,096\)"):
        await fetch_url(f"{server}/big", SMALL)


async def test_a_streamed_body_without_length_is_refused_once_over_the_limit(server: str) -> None:
    with pytest.raises(FetchRefused, match=r"larger than the limit of 1,024 bytes$"):
        await fetch_url(f"{server}/chunked", SMALL)


async def test_a_slow_body_fails_as_transient_after_the_overall_timeout(server: str) -> None:
    started = time.monotonic()

    with pytest.raises(FetchFailed, match=r"longer than 0\.3 s"):
        await fetch_url(f"{server}/slow", FetchPolicy(allow_loopback=True, timeout_s=0.3))

    assert time.monotonic() - started < 2.0


async def test_a_404_is_refused_with_its_status(server: str) -> None:
    with pytest.raises(FetchRefused, match="answered 404 Not Found") as refused:
        await fetch_url(f"{server}/status/404", LOCAL)
    assert refused.value.status == 404


@pytest.mark.parametrize("status", [503, 429])
async def test_a_503_or_429_is_a_transient_failure(server: str, status: int) -> None:
    with pytest.raises(FetchFailed) as failed:
        await fetch_url(f"{server}/status/{status}", LOCAL)
    assert failed.value.status == status


async def test_a_compressed_body_is_refused(server: str) -> None:
    with pytest.raises(FetchRefused, match="gzip-encoded"):
        await fetch_url(f"{server}/gzip", LOCAL)


async def test_a_closed_port_is_a_transient_failure() -> None:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()

    with pytest.raises(FetchFailed, match="could not connect"):
        await fetch_url(f"http://127.0.0.1:{port}/", LOCAL)


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("ftp://127.0.0.1/image.png", "only http and https"),
        ("file:///etc/passwd", "only http and https"),
        ("gopher://127.0.0.1:70/", "only http and https"),
        ("http://user:secret@127.0.0.1/image.png", "user name or password"),
        ("http:///image.png", "has no host"),
    ],
)
async def test_urls_that_are_not_plain_http_are_refused_before_connecting(
    url: str, words: str
) -> None:
    with pytest.raises(FetchRefused, match=words):
        await fetch_url(url, LOCAL)
