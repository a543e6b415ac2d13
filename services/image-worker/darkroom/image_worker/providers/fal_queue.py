"""fal's queue API over httpx: submit, poll the status (queue position, runner logs), fetch the
result, cancel. Not fal-client's AsyncClient: its queue host is a module constant read from
FAL_QUEUE_RUN_HOST at import and always https (no per-client base URL: no proxy, no local test
server), it retries on its own (Darkroom's retry policy owns retries), and it follows whatever
status and response URLs fal answers with, the key attached."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx

from darkroom.contracts.errors import ErrorCode
from darkroom.runtime.providers.answers import json_object, response_error, send
from darkroom.runtime.worker.errors import PermanentError, RetryableError, WorkerError

if TYPE_CHECKING:
    from darkroom.image_worker.providers.fal_images import FalSettings

logger = logging.getLogger(__name__)

APP_NAMESPACES = ("workflows", "comfy")  # ids under these have one more segment (fal-client)
CANCEL_TIMEOUT_S = 5.0
REFUSALS = {"content_policy_violation"}


@dataclass(frozen=True)
class QueuedRequest:
    """A submitted request and where to ask about it: always on the queue host."""

    request_id: str
    status_url: str
    response_url: str
    cancel_url: str


@dataclass(frozen=True)
class QueueStatus:
    """One status answer: IN_QUEUE (with its position), IN_PROGRESS or COMPLETED (with the
    number of runner log lines so far)."""

    status: str
    queue_position: int | None = None
    log_lines: int = 0


StatusCallback = Callable[[QueueStatus], Awaitable[None]]


def app_path(model: str) -> str:
    """The app a model id belongs to: status, result and cancel live under it, without the
    model's sub-path (`fal-ai/flux/dev` -> `fal-ai/flux`)."""
    parts = model.strip("/").split("/")
    return "/".join(parts[: 3 if parts[0] in APP_NAMESPACES else 2])


class FalQueue:
    """The queue of one fal account: every request carries the key, and goes to the queue host
    only."""

    def __init__(self, settings: FalSettings) -> None:
        self.settings = settings
        self.base = settings.queue_url.rstrip("/")
        self.client = httpx.AsyncClient(
            headers={
                "authorization": f"Key {settings.key.get_secret_value()}",
                "accept": "application/json",
            },
            timeout=settings.timeout_s,
        )

    async def run(
        self, model: str, body: dict[str, Any], on_status: StatusCallback
    ) -> dict[str, Any]:
        """The model's output (its JSON) for `body`. A job cancelled, timed out or failed while
        its request waits cancels the request: fal would run (and bill) it for nobody."""
        answer = await self._call("POST", f"{self.base}/{model.strip('/')}", json=body)
        request = self._request(model, answer)
        try:
            await on_status(QueueStatus("IN_QUEUE", _position(answer)))
            await self._wait(request, on_status)
        except BaseException:
            await asyncio.shield(self.cancel(request))
            raise
        return await self._call("GET", request.response_url)

    async def _wait(self, request: QueuedRequest, on_status: StatusCallback) -> None:
        wait = self.settings.poll_interval_s
        while True:
            await asyncio.sleep(wait)
            answer = await self._call("GET", request.status_url, params={"logs": "1"})
            logs = answer.get("logs")
            status = QueueStatus(
                str(answer.get("status")),
                _position(answer),
                len(logs) if isinstance(logs, list) else 0,
            )
            await on_status(status)
            if status.status == "COMPLETED":  # a failed run too: its result URL tells why
                return
            wait = min(wait * 1.5, self.settings.poll_max_interval_s)

    async def cancel(self, request: QueuedRequest) -> None:
        """Ask fal to cancel (it drops a queued request and signals a running one); best effort,
        the job is being stopped anyway."""
        try:
            async with asyncio.timeout(CANCEL_TIMEOUT_S):
                response = await self.client.put(request.cancel_url)
            logger.info("fal request %s cancel: %d", request.request_id, response.status_code)
        except Exception as exc:
            logger.warning("fal request %s cancel failed: %r", request.request_id, exc)

    def _request(self, model: str, answer: dict[str, Any]) -> QueuedRequest:
        """The request's URLs as fal gave them when they are on the queue host (the key goes
        with each), else as fal-client builds them: under the app, without the sub-path."""
        request_id = answer.get("request_id")
        if not isinstance(request_id, str):
            said = f"fal queued nothing: {str(answer)[:200]}"
            raise RetryableError(ErrorCode.PROVIDER_UNAVAILABLE, said)
        built = f"{self.base}/{app_path(model)}/requests/{request_id}"
        urls = {
            "status_url": f"{built}/status",
            "response_url": built,
            "cancel_url": f"{built}/cancel",
        }
        for name in urls:
            given = answer.get(name)
            if isinstance(given, str) and self._on_queue_host(given):
                urls[name] = given
            elif given is not None:
                logger.warning("fal request %s: %s off the queue host ignored", request_id, name)
        return QueuedRequest(request_id, **urls)

    def _on_queue_host(self, url: str) -> bool:
        try:
            given, base = httpx.URL(url), httpx.URL(self.base)
        except httpx.InvalidURL:
            return False
        return (given.scheme, given.host, given.port) == (base.scheme, base.host, base.port)

    async def _call(self, method: str, url: str, **kwargs: Any) -> dict[str, Any]:
        response = await send(self.client, "fal", method, url, **kwargs)
        if not response.is_success:
            raise fal_error(response)
        return json_object(response, "fal")


def _position(answer: dict[str, Any]) -> int | None:
    position = answer.get("queue_position")
    return position if isinstance(position, int) else None


def fal_error(response: httpx.Response) -> WorkerError:
    """The worker error of a refused request or a failed run; fal's own words are kept."""
    status, detail, kinds = response.status_code, *_detail(response)
    said = f"fal {status}: {detail}"[:300]
    if kinds & REFUSALS and status != 429:
        return PermanentError(ErrorCode.CONTENT_REFUSED, said)
    if status in (401, 403) and "exhausted balance" in detail.lower():
        # out of credits: retried, then dead-lettered for a redrive once topped up (as BFL's 402)
        return RetryableError(ErrorCode.PROVIDER_UNAVAILABLE, said)
    return response_error(response, said)


def _detail(response: httpx.Response) -> tuple[str, set[str]]:
    """fal's words and error types: a request error's `{"detail": str, "error_type"}` or a model
    error's `{"detail": [{"loc", "msg", "type"}, ...]}`."""
    try:
        body = response.json()
    except ValueError:
        return response.text, set()
    detail = body.get("detail") if isinstance(body, dict) else None
    if isinstance(detail, list):
        items = [item for item in detail if isinstance(item, dict)]
        words = "; ".join(
            f"{'.'.join(map(str, item.get('loc', [])))}: {item.get('msg')} ({item.get('type')})"
            for item in items
        )
        return words, {str(item.get("type")) for item in items}
    if isinstance(detail, str):
        kind = body.get("error_type") or response.headers.get("x-fal-error-type")
        return (f"{detail} ({kind})" if kind else detail), set()
    return response.text, set()
