"""The HTTP API process (`darkroom-gateway`), with the sweeper: wiring only."""

from __future__ import annotations

from darkroom.gateway.main import create_app
from darkroom.gateway.settings import GatewaySettings
from darkroom.runtime.serving import configure_process, serve


def run() -> None:
    settings = GatewaySettings()
    configure_process(settings, "gateway")
    serve(create_app(settings), settings.gateway_host, settings.gateway_port)
