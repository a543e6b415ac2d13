"""Start-up shared by every service process (logging, tracing, the ASGI server) and the HTTP edge
shared by every API: the 401 answer and the refusal of unknown query parameters."""

from __future__ import annotations

import signal
from types import FrameType
from typing import Any

import uvicorn
from fastapi import Request
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel

from darkroom.runtime.auth import TokenError
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
    """401 for a missing or invalid token, saying what is wrong, with the RFC 6750 challenge."""
    reason = str(exc) if isinstance(exc, TokenError) else "the token is not valid"
    error = exc.error if isinstance(exc, TokenError) else "invalid_token"
    challenge = "Bearer"
    if error is not None:
        challenge += f' error="{error}", error_description="{_quotable(reason)}"'
    return JSONResponse(
        {"detail": f"not authenticated: {reason}"}, 401, {"WWW-Authenticate": challenge}
    )


def _quotable(text: str) -> str:
    """Only the characters RFC 6750 allows in error_description (no quote, no backslash)."""
    return "".join(c for c in text if " " <= c <= "~" and c not in '"\\')


async def reject_unknown_query(request: Request) -> None:
    """A dependency: a query parameter the route does not declare is a 422 naming it.

    FastAPI ignores unknown query parameters, so `GET /v1/jobs?statsu=queued` would answer an
    unfiltered list as if the filter had been applied.
    """
    if not request.scope.get("query_string"):
        return
    known = _query_names(_solved_dependant(request))
    unknown = [name for name in request.query_params if name not in known]
    if unknown:
        listed = f"known parameters: {', '.join(sorted(known))}" if known else "it takes none"
        raise RequestValidationError(
            [
                {
                    "type": "extra_forbidden",
                    "loc": ("query", name),
                    "msg": f"'{name}' is not a known parameter of this route; {listed}",
                    "input": request.query_params[name],
                }
                for name in unknown
            ]
        )


def _solved_dependant(request: Request) -> Dependant:
    """What FastAPI solves for this request: the effective dependant, with the dependencies
    `include_router` adds, where this FastAPI records it in the scope; else the route's own."""
    context = request.scope.get("fastapi", {}).get("effective_route_context")
    dependant = getattr(context, "dependant", None)
    if isinstance(dependant, Dependant):
        return dependant
    route = request.scope["route"]
    assert isinstance(route, APIRoute)
    return route.dependant


def _query_names(dependant: Dependant) -> set[str]:
    """Query parameters of a route and of all its dependencies (query models by their fields)."""
    names: set[str] = set()
    for field in dependant.query_params:
        model = field.field_info.annotation
        if isinstance(model, type) and issubclass(model, BaseModel):
            names.update(f.alias or n for n, f in model.model_fields.items())
        else:
            names.add(field.alias)
    for sub in dependant.dependencies:
        names |= _query_names(sub)
    return names
