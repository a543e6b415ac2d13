"""One ComfyUI server, as its own web UI drives it: `POST /prompt` with a client id, the websocket
`/ws?clientId=` for progress and the end of the run, `GET /history/<id>` for the outputs,
`GET /view` for each saved image; `POST /queue {"delete"}` and `POST /interrupt` to cancel.

The images are fetched from COMFYUI_URL with this client, not through the SSRF-safe fetcher:
ComfyUI serves them from its own (usually private) address, which the operator configured,
rather than from a URL an answer names; the fetcher would rightly refuse a private address.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import WebSocketException

from darkroom.contracts.errors import ErrorCode
from darkroom.image_worker.providers.base import GeneratedImage, StepCallback
from darkroom.image_worker.providers.comfyui import ComfyuiSettings
from darkroom.image_worker.providers.remote import decode_image
from darkroom.runtime.providers.answers import response_error, send
from darkroom.runtime.worker.errors import PermanentError, RetryableError, WorkerError

logger = logging.getLogger(__name__)

OOM = re.compile(r"out of memory|OutOfMemory|Allocation on device", re.IGNORECASE)
CANCEL_TIMEOUT_S = 5.0
MAX_FRAME_BYTES = 32 * 1024 * 1024  # preview frames are images too


@dataclass(frozen=True)
class SavedImage:
    """An image a workflow saved, as `/history` names it and `/view` serves it."""

    filename: str
    subfolder: str
    type: str


class ComfyuiClient:
    """The HTTP client and websocket of one ComfyUI server (COMFYUI_URL), and a run on it."""

    def __init__(self, settings: ComfyuiSettings) -> None:
        key = settings.api_key.get_secret_value() if settings.api_key else None
        self.headers = {"authorization": f"Bearer {key}"} if key else {}
        self.poll_interval_s, self.timeout_s = settings.poll_interval_s, settings.timeout_s
        self.http = httpx.AsyncClient(
            base_url=settings.url, headers=self.headers, timeout=settings.timeout_s
        )

    async def run(
        self,
        workflow: dict[str, Any],
        on_queued: Callable[[], Awaitable[None]],
        on_progress: StepCallback,
    ) -> list[GeneratedImage]:
        """Queue the workflow, wait for its end, fetch what it saved; cancelled, the prompt is
        cancelled at ComfyUI too."""
        client_id = uuid.uuid4().hex
        async with self._socket(client_id) as socket:  # before queueing: no message is missed
            body = {"prompt": workflow, "client_id": client_id}
            prompt_id = str((await self._call("POST", "/prompt", json=body))["prompt_id"])
            await on_queued()
            try:
                if socket is not None:
                    await _follow(socket, prompt_id, on_progress)
                entry = await self._history(prompt_id)
            except asyncio.CancelledError:
                await self.cancel(prompt_id)
                raise
        return [await self._view(image) for image in saved_images(entry)]

    @contextlib.asynccontextmanager
    async def _socket(self, client_id: str) -> AsyncIterator[ClientConnection | None]:
        """The websocket of this client id, or None if it cannot be opened (then: polling)."""
        socket = await self._open_socket(client_id)
        if socket is None:
            yield None
            return
        async with socket:
            yield socket

    async def _open_socket(self, client_id: str) -> ClientConnection | None:
        url = self.http.base_url
        scheme = "wss" if url.scheme == "https" else "ws"
        path = url.path.rstrip("/") + "/ws"
        ws_url = url.copy_with(scheme=scheme, path=path, query=f"clientId={client_id}".encode())
        try:
            return await connect(
                str(ws_url), additional_headers=self.headers, max_size=MAX_FRAME_BYTES,
                open_timeout=self.timeout_s,
            )  # fmt: skip
        except (OSError, TimeoutError, WebSocketException) as exc:
            logger.warning("ComfyUI websocket not opened (%s): polling /history", exc)
            return None

    async def _history(self, prompt_id: str) -> dict[str, Any]:
        """The prompt's history entry, polled until ComfyUI has written it (at the run's end)."""
        while True:
            entry = (await self._call("GET", f"/history/{prompt_id}")).get(prompt_id)
            if isinstance(entry, dict):
                return entry
            await asyncio.sleep(self.poll_interval_s)

    async def _view(self, image: SavedImage) -> GeneratedImage:
        """A saved image's bytes; one that cannot be had is retried (a new run saves anew)."""
        query = {"filename": image.filename, "subfolder": image.subfolder, "type": image.type}
        try:
            response = await self.http.get("/view", params=query)
            response.raise_for_status()
            return decode_image(response.content)
        except (httpx.HTTPError, OSError) as exc:
            said = f"ComfyUI image {image.filename}: {exc}"[:300]
            raise RetryableError(ErrorCode.PROVIDER_UNAVAILABLE, said) from exc

    async def cancel(self, prompt_id: str) -> None:
        """Take the prompt off the queue, or interrupt it if it runs. Shielded from the job's own
        cancellation and bounded; a failure is logged, the job being cancelled anyway."""
        try:
            await asyncio.shield(asyncio.wait_for(self._cancel(prompt_id), CANCEL_TIMEOUT_S))
        except Exception as exc:
            logger.warning("ComfyUI prompt %s not cancelled: %s", prompt_id, type(exc).__name__)

    async def _cancel(self, prompt_id: str) -> None:
        # An older ComfyUI ignores the body and interrupts whatever runs: ask only if it is ours.
        await self._call("POST", "/queue", json={"delete": [prompt_id]})
        running = (await self._call("GET", "/queue")).get("queue_running") or []
        if any(isinstance(item, list) and prompt_id in item[1:2] for item in running):
            await self._call("POST", "/interrupt", json={"prompt_id": prompt_id})

    async def _call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        response = await send(self.http, "ComfyUI", method, path, **kwargs)
        if not response.is_success:
            raise comfyui_error(response)
        if not response.content:  # /queue and /interrupt answer 200 with no body
            return {}
        answer: dict[str, Any] = response.json()
        return answer


async def _follow(socket: ClientConnection, prompt_id: str, on_progress: StepCallback) -> None:
    """Read the websocket until ComfyUI says the prompt is done (`executing` with no node),
    reporting its sampler's steps; a socket that fails ends it early (the caller then polls)."""
    try:
        async for frame in socket:
            if isinstance(frame, bytes):
                continue  # a preview image
            message = json.loads(frame)
            data = message.get("data") or {}
            if data.get("prompt_id", prompt_id) != prompt_id:
                continue  # another client's prompt (an older ComfyUI names none: ours)
            if message.get("type") == "executing" and data.get("node") is None:
                return
            if message.get("type") == "progress" and data.get("max"):
                await on_progress(int(data["value"]), int(data["max"]))
    except (OSError, WebSocketException, ValueError) as exc:
        logger.warning("ComfyUI websocket lost (%s): polling /history", exc)


def saved_images(entry: dict[str, Any]) -> list[SavedImage]:
    """The images the run saved (SaveImage nodes: type `output`; previews are `temp`), or the
    run's failure as the job's error."""
    status = entry.get("status") or {}
    if status.get("status_str") == "error":
        raise run_error(status.get("messages") or [])
    images = [
        SavedImage(str(image["filename"]), str(image.get("subfolder", "")), "output")
        for output in (entry.get("outputs") or {}).values()
        for image in output.get("images", [])
        if image.get("type") == "output"
    ]
    if not images:
        raise PermanentError(
            ErrorCode.INVALID_INPUT, "ComfyUI: the workflow saved no image (it needs a SaveImage)"
        )
    return images


def run_error(messages: list[Any]) -> WorkerError:
    """Why a run failed, from its history's messages: running out of GPU memory is retried,
    another node's failure is the job's invalid input (the same graph fails the same way)."""
    named = [m for m in messages if isinstance(m, list) and len(m) == 2 and isinstance(m[1], dict)]
    for kind, data in reversed(named):
        where = f"node {data.get('node_id')} ({data.get('node_type')})"
        if kind == "execution_interrupted":
            said = f"ComfyUI: the run was interrupted at {where} on the ComfyUI host"
            return RetryableError(ErrorCode.PROVIDER_UNAVAILABLE, said)
        if kind == "execution_error":
            failure = f"{data.get('exception_type')}: {data.get('exception_message')}"
            said = f"ComfyUI {where} failed: {failure}"[:300]
            if OOM.search(failure):
                return RetryableError(ErrorCode.PROVIDER_UNAVAILABLE, said)
            return PermanentError(ErrorCode.INVALID_INPUT, said)
    return RetryableError(ErrorCode.PROVIDER_UNAVAILABLE, "ComfyUI: the run failed, saying no more")


def comfyui_error(response: httpx.Response) -> WorkerError:
    """The worker error of a refused request; ComfyUI's (or its proxy's) words are kept."""
    status = response.status_code
    said = f"ComfyUI {status}: {response.text[:300]}"
    if status == 400 and "error" in (body := _json_object(response)):
        return PermanentError(ErrorCode.INVALID_INPUT, refused_workflow(body))
    return response_error(response, said)


def _json_object(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def refused_workflow(body: dict[str, Any]) -> str:
    """ComfyUI's reasons for refusing a workflow, each node named with its class."""
    error = body.get("error")
    reasons = [str(error.get("message") if isinstance(error, dict) else error)]
    node_errors = body.get("node_errors")
    for node_id, node in (node_errors if isinstance(node_errors, dict) else {}).items():
        problems = "; ".join(
            f"{e.get('message')}: {e.get('details')}" for e in node.get("errors", [])
        )
        reasons.append(f"node {node_id} ({node.get('class_type')}): {problems}")
    return f"ComfyUI refused the workflow: {' - '.join(reasons)}"[:300]
