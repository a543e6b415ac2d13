"""What every service's HTTP server (`darkroom.runtime.serving.serve`) does with hostile
connections, over a real socket: a head (request line and headers) past the cap is answered 431
and closed before it is buffered, and an answer given before the body was read (a 413) closes
the connection instead of reading the rest. Ordinary requests, big bodies included, still pass."""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fixtures.ports import free_port, wait_for_port

pytestmark = pytest.mark.integration

# A tiny app: `/early` answers 413 without reading the body; any other path reads the whole body
# and answers its length.
APP = """
import sys
from darkroom.runtime.serving import serve

async def app(scope, receive, send):
    if scope["type"] == "lifespan":
        while (await receive())["type"] != "lifespan.shutdown":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})
        return
    size, more = 0, scope["path"] != "/early"
    while more:
        message = await receive()
        size, more = size + len(message.get("body", b"")), message.get("more_body", False)
    body = str(size).encode()
    status = 413 if scope["path"] == "/early" else 200
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})

serve(app, "127.0.0.1", int(sys.argv[1]))
"""
MB = 1024 * 1024
UNDER_THE_CAP = 60 * 1024  # serve's default cap on a head (MAX_HEAD_BYTES) is 64 KiB


class Server:
    def __init__(self, port: int, proc: subprocess.Popen[bytes]) -> None:
        self.port, self.proc = port, proc

    def peak_rss_mb(self) -> float:
        """The process's peak resident memory so far (VmHWM)."""
        status = Path(f"/proc/{self.proc.pid}/status").read_text()
        [line] = [x for x in status.splitlines() if x.startswith("VmHWM:")]
        return int(line.split()[1]) / 1024

    def connect(self) -> socket.socket:
        return socket.create_connection(("127.0.0.1", self.port), timeout=10)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    port = free_port()
    with (tmp_path / "server.log").open("wb") as log:
        proc = subprocess.Popen([sys.executable, "-c", APP, str(port)], stdout=log, stderr=log)
    try:
        wait_for_port("127.0.0.1", port, 30)
        yield Server(port, proc)
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def send_all(sock: socket.socket, data: bytes, chunk: int = 64 * 1024) -> int:
    """Send `data` until the server stops taking it; the bytes sent."""
    sent = 0
    try:
        for start in range(0, len(data), chunk):
            sock.sendall(data[start : start + chunk])
            sent += min(chunk, len(data) - start)
    except OSError:  # the server closed: reset or broken pipe
        pass
    return sent


def first_bytes(sock: socket.socket) -> bytes | None:
    """What the server sends first: b"" if it closed the connection, None if it kept it open."""
    try:
        return sock.recv(65536)
    except ConnectionResetError:
        return b""
    except TimeoutError:
        return None


def answer(sock: socket.socket) -> tuple[bytes, bytes]:
    """One whole answer (it has a Content-Length): its status line and body."""
    data = b""
    while b"\r\n\r\n" not in data:
        data += sock.recv(65536)
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(
        int(line.split(b":")[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    )
    while len(body) < length:
        body += sock.recv(65536)
    return head.split(b"\r\n")[0], body


def test_a_one_megabyte_header_line_is_refused_431_or_closed(server: Server) -> None:
    with server.connect() as sock:
        sent = send_all(sock, b"GET / HTTP/1.1\r\nHost: t\r\nX-Big: " + b"a" * MB + b"\r\n\r\n")
        first = first_bytes(sock)

    assert first is not None
    assert first == b"" or first.startswith(b"HTTP/1.1 431 "), first[:80]
    assert sent < MB or first.startswith(b"HTTP/1.1 431 ")


def test_sixteen_megabytes_of_headers_do_not_grow_the_server_memory(server: Server) -> None:
    with server.connect() as sock:  # a first request: the server's own start-up is done
        send_all(sock, b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
        assert answer(sock) == (b"HTTP/1.1 200 OK", b"0")
    before = server.peak_rss_mb()

    with server.connect() as sock:
        send_all(sock, b"GET / HTTP/1.1\r\nHost: t\r\n" + b"X-Big: " + b"a" * 16 * MB + b"\r\n\r\n")
        first_bytes(sock)
    with server.connect() as sock:  # it still serves, and has handled the big one by now
        send_all(sock, b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
        assert answer(sock) == (b"HTTP/1.1 200 OK", b"0")

    assert server.peak_rss_mb() - before < 8


def test_an_answer_before_the_body_was_read_ends_the_connection(server: Server) -> None:
    with server.connect() as sock:
        sock.sendall(b"POST /early HTTP/1.1\r\nHost: t\r\nContent-Length: 1000000000\r\n\r\nxx")
        status, _ = answer(sock)
        sock.settimeout(2)  # less than uvicorn's keep-alive timeout (5 s), which closes it too
        after = first_bytes(sock)

    assert status.startswith(b"HTTP/1.1 413 ")
    assert after == b""  # end of stream: nothing more is answered on this connection


def test_a_client_still_sending_its_body_reads_the_early_answer(server: Server) -> None:
    body = b"b" * (8 * MB)
    with server.connect() as sock:
        sock.sendall(b"POST /early HTTP/1.1\r\nHost: t\r\nContent-Length: %d\r\n\r\n" % len(body))
        sent = send_all(sock, body)
        status, _ = answer(sock)

    assert (sent, status[:13]) == (len(body), b"HTTP/1.1 413 ")


def test_ordinary_requests_and_big_bodies_pass_on_one_connection(server: Server) -> None:
    big_body = b"b" * (4 * MB)
    near_cap = b"X-Pad: " + b"p" * UNDER_THE_CAP + b"\r\n"
    with server.connect() as sock:
        sock.sendall(
            b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: %d\r\n\r\n" % len(big_body) + big_body
        )
        first = answer(sock)
        sock.sendall(b"GET / HTTP/1.1\r\nHost: t\r\n" + near_cap + b"\r\n")
        second = answer(sock)

    assert first == (b"HTTP/1.1 200 OK", str(len(big_body)).encode())
    assert second == (b"HTTP/1.1 200 OK", b"0")
