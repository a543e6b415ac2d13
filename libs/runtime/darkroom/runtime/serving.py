"""Start-up shared by every service process (logging, tracing, the ASGI server) and the HTTP edge
shared by every API: the 401, 413 and 422 answers and the refusal of unknown query parameters."""

from __future__ import annotations

import json
import math
import signal
from collections.abc import Mapping
from itertools import islice
from types import FrameType
from typing import Any

import uvicorn
from fastapi import FastAPI, Request
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel
from starlette.middleware.body_limit import MAX_BODY_SIZE_SCOPE_KEY
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

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


MAX_HEAD_BYTES = 64 * 1024  # a request line and headers; a bearer token is about 1 KB
LINGER_S = 2.0  # after an early answer, what the client still sends is dropped this long


class _GuardedHttpTools(HttpToolsProtocol):
    """uvicorn's httptools protocol with two guards.

    - A cap on each request's head (line and headers). httptools buffers a header of any size
      (10 MB lines were read whole, the memory never given back); past the cap, a 431 and a
      close, so at most the cap and one socket read are buffered. (h11 has a cap, but parses in
      pure Python, about 25 times slower.)
    - An answer given before the body was all read (a 413) ends the connection: what the client
      still sends is dropped unparsed for LINGER_S, so that it can finish and read the answer
      (a close at once would reset the connection under it), then the connection closes.
      uvicorn alone would parse and drop the rest for as long as the client sends.
    """

    max_head_bytes = MAX_HEAD_BYTES
    _head_bytes: int | None = 0  # bytes read since the current head began; None in a body
    _ended = False  # answered early: nothing more is parsed

    def data_received(self, data: bytes) -> None:
        if self._ended:
            return
        if self._head_bytes is not None:
            self._head_bytes += len(data)
        super().data_received(data)
        if (
            self._head_bytes is not None
            and self._head_bytes > self.max_head_bytes
            and not self.transport.is_closing()
        ):
            body = b"request line and headers are larger than %d bytes" % self.max_head_bytes
            self.transport.write(
                b"HTTP/1.1 431 Request Header Fields Too Large\r\n"
                b"content-type: text/plain; charset=utf-8\r\nconnection: close\r\n"
                b"content-length: %d\r\n\r\n%s" % (len(body), body)
            )
            self.transport.close()

    def on_headers_complete(self) -> None:
        self._head_bytes = None
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._head_bytes = 0

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if self.cycle is not None and self.cycle.more_body and not self.transport.is_closing():
            self._ended = True
            if self.transport.can_write_eof():  # the answer, then end of stream (not over TLS)
                self.transport.write_eof()
            self.loop.call_later(LINGER_S, self.transport.close)


def serve(app: Any, host: str, port: int, *, max_head_bytes: int = MAX_HEAD_BYTES) -> None:
    """Run an ASGI app with uvloop and httptools; logging stays ours (no uvicorn log config).

    A request whose line and headers pass `max_head_bytes` is answered 431 and its connection
    closed; one answered before its body was all read ends its connection. uvicorn shuts down
    gracefully on SIGTERM, then raises the signal again with the handler that was there before
    it; that handler exits 0, so a clean shutdown is reported as one (exit 0, not "killed by
    SIGTERM").
    """
    protocol = type("GuardedHttpTools", (_GuardedHttpTools,), {"max_head_bytes": max_head_bytes})
    signal.signal(signal.SIGTERM, _exit_cleanly)
    uvicorn.run(
        app,
        host=host,
        port=port,
        log_config=None,
        loop="uvloop",
        http=protocol,
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


def add_edge_handlers(app: FastAPI) -> None:
    """The answers every API gives alike: 422 for an invalid request, 413 for a body too large."""
    app.add_exception_handler(RequestValidationError, invalid_request)
    app.add_exception_handler(413, body_too_large)


async def body_too_large(request: Request, _: Exception) -> JSONResponse:
    """413 for a body that streams past its route's limit (FastAPI's `max_body_size`), saying the
    limit; the rest is not parsed (`serve` ends the connection). A body whose Content-Length is
    over the limit gets Starlette's own plain-text 413 before a byte is read: it replaces any
    answer then."""
    limit = request.scope.get(MAX_BODY_SIZE_SCOPE_KEY)
    size = f"{limit:,} bytes" if isinstance(limit, int) else "the limit"
    return JSONResponse({"detail": f"the request body is larger than {size}"}, 413)


ECHO_CHARS = 200  # of an input, a 422 shows this much back: enough to recognise it, not the body
_ECHO_ITEMS = 10
_NON_FINITE = {"nan": "NaN", "inf": "Infinity", "-inf": "-Infinity"}
# The two errors only hostile JSON causes: Python's json reads NaN, Infinity, 1e309 and lone
# surrogates (escaped or as raw bytes), pydantic refuses them, and no JSON answer can hold them.
_IN_WORDS = {
    "finite_number": "a number that JSON cannot carry (NaN, Infinity or beyond 1.8e308): "
    "give a finite number",
    "string_unicode": "not valid UTF-8 text: it holds a lone surrogate (\\ud800 to \\udfff)",
}


async def invalid_request(_: Request, exc: Exception) -> JSONResponse:
    """422 in FastAPI's shape (type, loc, msg, input, ctx), every error JSON-safe: an input is
    echoed as a short prefix, never the whole body; NaN and Infinity as strings; lone surrogates
    escaped (`\\ud800`). The default handler answered 500 for those, and echoed 8 MB bodies."""
    assert isinstance(exc, RequestValidationError)
    return JSONResponse({"detail": [_safe_error(error) for error in exc.errors()]}, 422)


def _safe_error(error: Mapping[str, Any]) -> dict[str, Any]:
    safe = {key: _json_safe(value) for key, value in error.items()}  # FastAPI's key order
    safe["loc"] = [part if isinstance(part, int) else _text(part) for part in error["loc"]]
    safe["msg"] = _IN_WORDS.get(error["type"]) or _text(str(error["msg"]), 4 * ECHO_CHARS)
    if "input" in error:
        safe["input"] = echo_input(error["input"])
    return safe


def echo_input(value: Any) -> Any:
    """An input as a 422 shows it back: JSON-safe, and at most ECHO_CHARS characters of its JSON
    (a longer one becomes that prefix, as a string ending in "…")."""
    safe = _json_safe(value)
    if isinstance(safe, str):
        return safe
    text = json.dumps(safe, ensure_ascii=False)
    return safe if len(text) <= ECHO_CHARS else _text(text)


def _json_safe(value: Any, depth: int = 2) -> Any:
    """A bounded copy JSON can carry: prefixes of strings, the first items of containers (then
    "…"), two levels deep."""
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else _NON_FINITE[repr(value)]
    if isinstance(value, Mapping | list | tuple) and not depth:
        return "…"
    if isinstance(value, Mapping):
        items = islice(value.items(), _ECHO_ITEMS)
        shown = {_text(str(key)): _json_safe(item, depth - 1) for key, item in items}
        return shown | ({"…": "…"} if len(value) > _ECHO_ITEMS else {})
    if isinstance(value, list | tuple):
        listed = [_json_safe(item, depth - 1) for item in value[:_ECHO_ITEMS]]
        return listed + (["…"] if len(value) > _ECHO_ITEMS else [])
    return _text(value if isinstance(value, str) else str(value))


def _text(text: str, limit: int = ECHO_CHARS) -> str:
    """At most `limit` characters, lone surrogates written as escapes (UTF-8 cannot hold them)."""
    cut = text if len(text) <= limit else text[:limit] + "…"
    return cut.encode("utf-8", "backslashreplace").decode("utf-8")


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
