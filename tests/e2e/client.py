"""What a client of Darkroom does in the end-to-end tests: submit, follow the SSE stream, poll."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
from httpx_sse import EventSource, ServerSentEvent, aconnect_sse

from tests.fixtures.tokens import auth


@dataclass(frozen=True)
class Received:
    event: str
    id: str
    data: dict[str, Any]


async def submit(http: httpx.AsyncClient, gateway: str, user: str, **body: Any) -> dict[str, Any]:
    response = await http.post(
        f"{gateway}/v1/jobs/image", json={"prompt": "a quiet harbour", **body}, headers=auth(user)
    )
    assert response.status_code == 202, response.text
    return response.json()  # type: ignore[no-any-return]


async def data_events(source: EventSource) -> AsyncIterator[ServerSentEvent]:
    """The stream's events, as a browser dispatches them.

    httpx-sse dispatches the blank line after a keep-alive comment as an event with no data once
    an id was seen; the SSE spec (and every browser) drops an event without data.
    """
    async for sse in source.aiter_sse():
        if sse.data:
            yield sse


async def follow(
    http: httpx.AsyncClient, url: str, headers: dict[str, str], timeout_s: float = 60
) -> list[Received]:
    """Every event of an SSE stream until the server closes it."""
    received: list[Received] = []
    async with (
        asyncio.timeout(timeout_s),
        aconnect_sse(http, "GET", url, headers=headers) as source,
    ):
        assert source.response.status_code == 200, await source.response.aread()
        async for sse in data_events(source):
            received.append(Received(sse.event, sse.id, sse.json()))
    return received


async def wait_for_status(
    http: httpx.AsyncClient, status_url: str, user: str, want: str, timeout_s: float = 60
) -> dict[str, Any]:
    """Poll the job until it has status `want` (or fail with the last answer)."""
    deadline = time.monotonic() + timeout_s
    while True:
        job = (await http.get(status_url, headers=auth(user))).json()
        if job.get("status") == want or time.monotonic() > deadline:
            assert job.get("status") == want, job
            return job  # type: ignore[no-any-return]
        await asyncio.sleep(0.05)
