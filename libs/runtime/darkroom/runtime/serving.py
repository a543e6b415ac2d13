"""Start-up shared by every service process: logging, tracing, and the ASGI server."""

from __future__ import annotations

import signal
from types import FrameType
from typing import Any

import uvicorn
from fastapi import Request
from fastapi.responses import JSONResponse

from darkroom.runtime.logging import configure_logging
from darkroom.runtime.settings import BaseServiceSettings, ObservabilitySettings
from darkroom.runtime.telemetry import configure_tracing


def configure_process(settings: BaseServiceSettings, service: str) -> None:
    """Logging for every service; tracing for those that have tracing settings."""
    configure_logging(settings.log_level, service, settings.log_format)
    if isinstance(settings, ObservabilitySettings):
        name = settings.otel_service_name or f"darkroom-{service}"
        configure_tracing(name, settings.otel_console_export)


def _exit_cleanly(signum: int, _frame: FrameType | None) -> None:
    raise SystemExit(0)


def serve(app: Any, host: str, port: int) -> None:
    """Run an ASGI app with uvloop and httptools; logging stays ours (no uvicorn log config).

    uvicorn shuts down gracefully on SIGTERM, then raises the signal again with the handler that
    was there before it; that handler exits 0, so a clean shutdown is reported as one (exit 0,
    not "killed by SIGTERM").
    """
    signal.signal(signal.SIGTERM, _exit_cleanly)
    uvicorn.run(
        app,
        host=host,
        port=port,
        log_config=None,
        loop="uvloop",
        http="httptools",
        access_log=False,
    )


async def unauthorized(_: Request, exc: Exception) -> JSONResponse:
    """401 for a missing or invalid token, with the challenge RFC 6750 asks for."""
    return JSONResponse(
        {"detail": f"not authenticated: {exc}"}, 401, {"WWW-Authenticate": "Bearer"}
    )
