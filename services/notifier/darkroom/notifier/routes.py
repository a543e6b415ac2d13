"""Stream routes, health routes, and the caller's identity."""

from __future__ import annotations

import uuid
from collections.abc import AsyncGenerator
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sse_starlette import EventSourceResponse, ServerSentEvent

from darkroom.contracts.jobtypes import JobType
from darkroom.notifier.hub import Hub
from darkroom.notifier.settings import NotifierSettings
from darkroom.notifier.streams import family_stream, job_stream, until_expiry, user_stream
from darkroom.notifier.tail import EventTail
from darkroom.runtime.auth import Principal, TokenError, TokenService
from darkroom.runtime.broker_watch import BrokerNotReady, BrokerWatch
from darkroom.runtime.db import Database, JobRecord, JobStore
from darkroom.runtime.db.history import EventHistory
from darkroom.runtime.serving import reject_unknown_query

router = APIRouter()
bearer = HTTPBearer(auto_error=False)


class JobNotFound(Exception):
    """No such job for this caller."""


@dataclass
class Services:
    settings: NotifierSettings
    db: Database
    store: JobStore
    history: EventHistory
    hub: Hub
    tail: EventTail
    tokens: TokenService
    watch: BrokerWatch | None = None  # the broker answers, with the log tailed (readiness)


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
MAX_EVENT_ID = 2**63 - 1  # a BIGINT


def last_event_id(
    header: Annotated[
        str | None,
        Header(
            alias="Last-Event-ID", description="The id of the last event received: resume after it."
        ),
    ] = None,
    query: Annotated[
        str | None,
        Query(
            alias="last_event_id",
            description="The same, for a new EventSource (which cannot set headers): a page that "
            "reconnects with a fresh stream token resumes with it. The header wins when both come.",
        ),
    ] = None,
) -> int | None:
    """The id to resume after, as the decimal integer every stream's ids are; anything else is a
    422 naming where it came from (never a 500 from the database)."""
    where, raw = (
        ("header", "Last-Event-ID") if header else ("query", "last_event_id"),
        header or query,
    )
    if not raw:
        return None
    if not (raw.isascii() and raw.isdigit()) or int(raw) > MAX_EVENT_ID:
        raise RequestValidationError(
            [
                {
                    "type": "int_parsing",
                    "loc": where,
                    "msg": f"{where[1]} must be the decimal id of an event this stream sent",
                    "input": raw[:200],
                }
            ]
        )
    return int(raw)


LastEventId = Annotated[int | None, Depends(last_event_id)]


@router.get(
    "/v1/jobs/{job_id}/events",
    summary="A job's events as Server-Sent Events",
    dependencies=[Depends(reject_unknown_query)],
)
async def job_events(
    job_id: uuid.UUID,
    user: StreamUser,
    services: ServicesDep,
    last_event_id: LastEventId,
) -> EventSourceResponse:
    """The job's history, then its live events; closes after its terminal event, or when the
    caller's token expires. A batch's or chain's stream carries its children's events too.

    Reconnecting with `Last-Event-ID` (EventSource does it by itself) resumes after that event:
    a job's seq, or for a batch or chain the recorded id of the family's event.
    """
    record = await services.store.get_job(job_id)
    if record is None or (record.user_id != user.user_id and not user.is_admin):
        raise JobNotFound(str(job_id))
    return EventSourceResponse(
        until_expiry(user.expires_at, _job_or_family_stream(record, last_event_id or 0, services)),
        ping=services.settings.sse_ping_s,
    )


def _job_or_family_stream(
    record: JobRecord, after: int, services: Services
) -> AsyncGenerator[ServerSentEvent, None]:
    settle_s = services.settings.terminal_settle_s
    if JobType(record.type).is_parent:
        return family_stream(record.job_id, after, services.hub, services.history, settle_s)
    return job_stream(record.job_id, after, services.hub, services.history, settle_s)


@router.get(
    "/v1/events",
    summary="Live events of all the caller's jobs as Server-Sent Events",
    dependencies=[Depends(reject_unknown_query)],
)
async def my_events(
    user: StreamUser, services: ServicesDep, last_event_id: LastEventId
) -> EventSourceResponse:
    """Events of all the caller's jobs recorded from now on, until the caller's token expires;
    reconnecting with `Last-Event-ID` resumes after that event, with no gap and no duplicate."""
    # The start is fixed before the response begins: a client that submits a job as soon as
    # the stream answers 200 sees that job from its first event.
    after = last_event_id if last_event_id is not None else await services.history.newest_id()
    settle_s = services.settings.terminal_settle_s
    return EventSourceResponse(
        until_expiry(
            user.expires_at,
            user_stream(user.user_id, after, services.hub, services.history, settle_s),
        ),
        ping=services.settings.sse_ping_s,
    )


@router.get("/healthz", summary="The process is alive")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", summary="Tailing the event topic, the broker and the database answer")
async def readyz(services: ServicesDep) -> JSONResponse:
    failed: dict[str, str] = {}
    if not services.tail.ready:
        failed["kafka"] = "not tailing the event topic yet"
    elif services.watch is not None:
        try:
            await services.watch.check()
        except BrokerNotReady as exc:  # streams get no live events meanwhile
            failed["kafka"] = str(exc)
    try:
        await services.db.ping()
    except Exception as exc:  # not ready: say why
        failed["database"] = f"{type(exc).__name__}: {exc}"[:200]
    if failed:
        return JSONResponse({"status": "unavailable", "failed": failed}, status_code=503)
    return JSONResponse({"status": "ready", "open_streams": services.hub.open_streams})
