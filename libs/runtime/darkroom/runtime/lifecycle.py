"""Process lifecycle: run a service coroutine until SIGTERM or SIGINT, then stop it cleanly; end
the streaming responses a server's shutdown cuts short as responses, not as errors."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Coroutine
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

logger = logging.getLogger(__name__)


async def run_until_signal(main: Coroutine[Any, Any, Any]) -> None:
    """Run `main` until it ends or the process gets SIGTERM/SIGINT, which cancels it."""
    loop = asyncio.get_running_loop()
    task = asyncio.ensure_future(main)
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, task.cancel)
    try:
        with contextlib.suppress(asyncio.CancelledError):
            await task
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)
    logger.info("stopped")


class EndStreamsOnShutdown:
    """ASGI middleware: a stream the server's shutdown cut short still ends as a response.

    On shutdown sse-starlette cancels every open stream without sending its closing (empty) body
    message; uvicorn then logs an ERROR and drops the connection. Sending that message ends the
    stream cleanly, and the client reconnects (with Last-Event-ID) to the next server. After a
    client disconnect uvicorn ignores the message.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = ended = False

        async def watched(message: Message) -> None:
            nonlocal started, ended
            if message["type"] == "http.response.start":
                started = True
            elif message["type"] == "http.response.body" and not message.get("more_body"):
                ended = True
            await send(message)

        await self.app(scope, receive, watched)
        if started and not ended:
            await send({"type": "http.response.body", "body": b"", "more_body": False})
