"""The gateway's app factory and entry point: wiring only."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from darkroom.gateway.deps import Services
from darkroom.gateway.errors import (
    InvalidInput,
    JobNotFound,
    JobNotRetryable,
    PriorityNotAllowed,
    UploadRejected,
    WrongTokenScope,
)
from darkroom.gateway.routes import assets, health, jobs, models, tokens, uploads, webhooks
from darkroom.gateway.settings import GatewaySettings
from darkroom.gateway.sweeper.backlog import RequestBacklog
from darkroom.gateway.sweeper.loop import Sweeper, run_sweeper
from darkroom.runtime.auth import TokenError, TokenService
from darkroom.runtime.broker_watch import BrokerWatch, Watching
from darkroom.runtime.db import JobStore, open_database
from darkroom.runtime.db.cursor import InvalidCursor
from darkroom.runtime.db.group_commit import GroupCommittingJobs
from darkroom.runtime.providers import Registry
from darkroom.runtime.serving import add_edge_handlers, unauthorized
from darkroom.runtime.storage import make_url_signer, open_object_store


def create_app(settings: GatewaySettings) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        db = open_database(settings)
        store = JobStore(db)
        services = Services(
            settings=settings,
            db=db,
            store=store,
            writer=GroupCommittingJobs(store),
            objects=await open_object_store(settings),
            tokens=TokenService.from_settings(settings),
            signer=make_url_signer(settings),
            kafka=BrokerWatch(settings, f"gateway-{settings.instance_id}"),
            providers=Registry.installed(),
        )
        app.state.services = services
        async with _sweeping(store, settings, services.kafka):
            yield
        await db.dispose()

    # FastAPI's native OpenTelemetry: one span per request (the parent of every job's trace);
    # no per-operation spans or metrics, which cost CPU on every request and nothing reads.
    app = FastAPI(
        telemetry={"tracing": True, "operation_spans": False, "metrics": False},
        title="Darkroom gateway",
        version="0.1.0",
        lifespan=lifespan,
        description="Submit AI media jobs, read their status, list them.",
        max_body_size=settings.max_body_bytes,
    )
    routers = (jobs.router, webhooks.router, models.router, tokens.router, assets.router)
    for router in (*routers, health.router):
        app.include_router(router)
    app.include_router(uploads.router, max_body_size=uploads.body_limit(settings))
    add_edge_handlers(app)
    add_error_handlers(app)
    return app


@asynccontextmanager
async def _sweeping(
    store: JobStore, settings: GatewaySettings, watch: BrokerWatch
) -> AsyncIterator[None]:
    """The broker watch and the sweeper (if enabled), in the background while the app serves;
    when the broker lost its log, the sweeper queues the waiting jobs again at once."""
    watching = Watching(watch, adopt_now=False)  # jobs are taken while the broker is away
    await watching.start()
    tasks = []
    if settings.sweeper_enabled:
        backlog = RequestBacklog(settings, settings.sweeper_backlog_timeout_s)
        sweeper = Sweeper(
            store, settings.topics, settings, backlog, lambda: watch.state.incarnation
        )
        watch.react(partial(sweeper.follow_broker, settings.instance_id))
        tasks.append(
            asyncio.create_task(run_sweeper(sweeper, settings.instance_id), name="sweeper")
        )
    try:
        yield
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await watching.stop()


def add_error_handlers(app: FastAPI) -> None:
    """Domain errors become HTTP answers here, at the edge, and nowhere else."""

    async def forbidden(_: Request, exc: Exception) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, 403)

    async def not_found(_: Request, exc: Exception) -> JSONResponse:
        return JSONResponse({"detail": "job not found"}, 404)

    async def conflict(_: Request, exc: Exception) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, 409)

    async def bad_cursor(_: Request, exc: Exception) -> JSONResponse:
        error = {"loc": ["query", "cursor"], "msg": str(exc), "type": "value_error"}
        return JSONResponse({"detail": [error]}, 422)

    app.add_exception_handler(TokenError, unauthorized)
    app.add_exception_handler(WrongTokenScope, forbidden)
    app.add_exception_handler(JobNotFound, not_found)
    app.add_exception_handler(InvalidCursor, bad_cursor)

    async def invalid_input(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, InvalidInput)
        error = {"loc": list(exc.loc), "msg": str(exc), "type": "value_error"}
        return JSONResponse({"detail": [error]}, 422)

    async def priority_not_allowed(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, PriorityNotAllowed)
        error = {"loc": list(exc.loc), "msg": str(exc), "type": "priority_not_allowed"}
        return JSONResponse({"detail": [error]}, 403)

    async def upload_rejected(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, UploadRejected)
        error = {"loc": ["body", "file"], "msg": str(exc), "type": "value_error"}
        return JSONResponse({"detail": [error]}, exc.status)

    app.add_exception_handler(JobNotRetryable, conflict)
    app.add_exception_handler(InvalidInput, invalid_input)
    app.add_exception_handler(PriorityNotAllowed, priority_not_allowed)
    app.add_exception_handler(UploadRejected, upload_rejected)
