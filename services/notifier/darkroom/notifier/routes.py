"""Stream routes, health routes, and the caller's identity."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sse_starlette import EventSourceResponse

from darkroom.notifier.hub import Hub
from darkroom.notifier.settings import NotifierSettings
from darkroom.notifier.streams import job_stream, user_stream
from darkroom.notifier.tail import EventTail
from darkroom.runtime.auth import Principal, TokenError, TokenService
from darkroom.runtime.db import Database, JobStore

router = APIRouter()
bearer = HTTPBearer(auto_error=False)


class JobNotFound(Exception):
    """No such job for this caller."""


@dataclass
class Services:
    settings: NotifierSettings
    db: Database
    store: JobStore
    hub: Hub
    tail: EventTail
    tokens: TokenService


async def get_services(request: Request) -> Services:
    return request.app.state.services  # type: ignore[no-any-return]


ServicesDep = Annotated[Services, Depends(get_services)]


async def stream_user(
    services: ServicesDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    access_token: Annotated[
        str | None, Query(description="A stream token, for EventSource (no headers).")
    ] = None,
) -> Principal:
    """The caller: a bearer header (any token), or `?access_token=` (stream tokens only)."""
    if credentials is not None:
        return services.tokens.verify(credentials.credentials)
    if access_token is None:
        raise TokenError("missing bearer token or access_token")
    principal = services.tokens.verify(access_token)
    if principal.scope != "stream":
        raise TokenError("access_token in a URL must be a stream token from POST /v1/stream-tokens")
    return principal


StreamUser = Annotated[Principal, Depends(stream_user)]


@router.get("/v1/jobs/{job_id}/events", summary="A job's events as Server-Sent Events")
async def job_events(
    job_id: uuid.UUID,
    user: StreamUser,
    services: ServicesDep,
    last_event_id: Annotated[int | None, Header(alias="Last-Event-ID", ge=0)] = None,
) -> EventSourceResponse:
    """The job's history, then its live events; closes after `job.completed` or `job.failed`.

    Reconnecting with `Last-Event-ID` (EventSource does it by itself) resumes after that event.
    """
    record = await services.store.get_job(job_id)
    if record is None or (record.user_id != user.user_id and not user.is_admin):
        raise JobNotFound(str(job_id))
    stream = job_stream(
        job_id,
        last_event_id or 0,
        services.hub,
        services.store,
        services.settings.terminal_settle_s,
    )
    return EventSourceResponse(stream, ping=services.settings.sse_ping_s)


@router.get("/v1/events", summary="Live events of all the caller's jobs as Server-Sent Events")
async def my_events(user: StreamUser, services: ServicesDep) -> EventSourceResponse:
    return EventSourceResponse(
        user_stream(
            user.user_id, services.hub, services.store, services.settings.terminal_settle_s
        ),
        ping=services.settings.sse_ping_s,
    )


@router.get("/healthz", summary="The process is alive")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", summary="Tailing the event topic, and the database answers")
async def readyz(services: ServicesDep) -> JSONResponse:
    failed: dict[str, str] = {}
    if not services.tail.ready:
        failed["kafka"] = "not tailing the event topic yet"
    try:
        await services.db.ping()
    except Exception as exc:  # not ready: say why
        failed["database"] = f"{type(exc).__name__}: {exc}"[:200]
    if failed:
        return JSONResponse({"status": "unavailable", "failed": failed}, status_code=503)
    return JSONResponse({"status": "ready", "open_streams": services.hub.open_streams})
