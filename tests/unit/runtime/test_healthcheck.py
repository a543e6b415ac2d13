"""The image's HEALTHCHECK finds the process a container runs and asks it on its own port."""

import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

from darkroom.runtime.healthcheck import HTTP_PORTS, health_url, healthy, process_of


def test_the_process_is_read_from_a_command_line_whatever_runs_it() -> None:
    assert process_of(b"/app/.venv/bin/darkroom-gateway\0") == "darkroom-gateway"
    assert process_of(b"python\0/usr/local/bin/darkroom-relay\0") == "darkroom-relay"
    assert process_of(b"sleep\0infinity\0") == ""


def test_each_http_process_is_asked_on_its_port_setting_or_its_default() -> None:
    assert health_url("darkroom-notifier", {}) == "http://127.0.0.1:8001/healthz"
    assert health_url("darkroom-video-worker", {"VIDEO_WORKER_PORT": "9013"}) == (
        "http://127.0.0.1:9013/healthz"
    )
    assert health_url("darkroom-relay", {}) is None  # no HTTP: healthy while it runs
    assert health_url("darkroom-webhooks", {}) == "http://127.0.0.1:8014/healthz"
    assert len(HTTP_PORTS) == 7


def test_healthy_means_a_2xx_from_healthz() -> None:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200 if self.path == "/healthz" else 503)
            self.end_headers()

        def log_message(self, *_: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        port = server.server_address[1]
        assert healthy(f"http://127.0.0.1:{port}/healthz")
        assert not healthy(f"http://127.0.0.1:{port}/other")
    finally:
        server.shutdown()
        server.server_close()
    assert not healthy(f"http://127.0.0.1:{port}/healthz")  # nobody answers
    assert healthy(None)
