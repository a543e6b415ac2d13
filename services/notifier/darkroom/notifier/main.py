"""The notifier's app factory and entry point: wiring only."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse

from darkroom.notifier.hub import Hub
from darkroom.notifier.routes import JobNotFound, Services, router
from darkroom.notifier.settings import NotifierSettings
from darkroom.notifier.tail import EventTail
from darkroom.runtime.auth import TokenError, TokenService
from darkroom.runtime.broker_watch import BrokerWatch, Watching
from darkroom.runtime.db import JobStore, open_database
from darkroom.runtime.db.history import EventHistory
from darkroom.runtime.kafka import ensure_topics
from darkroom.runtime.lifecycle import EndStreamsOnShutdown
from darkroom.runtime.serving import configure_process, serve, unauthorized


def build_services(settings: NotifierSettings) -> Services:
    db = open_database(settings)
    hub = Hub(settings.sse_queue_size, settings.recent_jobs, settings.recent_events_per_job)
    tokens = TokenService(settings.jwt_secret.get_secret_value(), settings.jwt_issuer)
    tail = EventTail(settings, hub)
    history = EventHistory(db)
    watch = BrokerWatch(settings, f"notifier-{settings.instance_id}")
    return Services(settings, db, JobStore(db), history, hub, tail, tokens, watch)


def create_app(settings: NotifierSettings) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        services = app.state.services = build_services(settings)
        await ensure_topics(settings, settings.topics.all_topics())
        async with tailing(services):
            yield
        await services.db.dispose()

    app = FastAPI(
        title="Darkroom notifier",
        version="0.1.0",
        lifespan=lifespan,
        description="Live job events as Server-Sent Events.",
    )
    app.include_router(router)
    app.add_middleware(EndStreamsOnShutdown)  # Ctrl-C with streams open is a clean stop
    if settings.cors_allow_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_allow_origins,
            allow_methods=["GET"],
            allow_headers=["Authorization", "Last-Event-ID"],
        )

    async def not_found(_: Request, exc: Exception) -> JSONResponse:
        return JSONResponse({"detail": "job not found"}, 404)

    app.add_exception_handler(TokenError, unauthorized)
    app.add_exception_handler(JobNotFound, not_found)
    return app


@asynccontextmanager
async def tailing(services: Services) -> AsyncIterator[None]:
    """The event tail and the broker watch (the tail starts over when the broker lost its log)."""
    await services.tail.start()
    task = asyncio.create_task(services.tail.run(), name="event-tail")
    assert services.watch is not None
    services.watch.react(services.tail.start_over)
    watching = Watching(services.watch)
    await watching.start()
    try:
        yield
    finally:
        await watching.stop()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await services.tail.stop()


def run() -> None:
    settings = NotifierSettings()
    configure_process(settings, "notifier")
    serve(create_app(settings), settings.notifier_host, settings.notifier_port)
