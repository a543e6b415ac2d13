"""`/readyz` of the processes served by FastStream's ASGI app (the projector, the webhook
sender): 200 `ready`, or 503 saying what is not."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable

from faststream.asgi import AsgiResponse, HttpHandler, get
from faststream.kafka import KafkaBroker
from faststream.kafka.subscriber.usecase import BatchSubscriber

# What keeps the process from being ready, in words; None when nothing does.
Check = Callable[[], Awaitable[str | None]]


def readiness(*checks: Check) -> HttpHandler:
    """The route: each check in turn, the first problem answered as a 503."""

    @get(include_in_schema=False)
    async def readyz(scope: object) -> AsgiResponse:
        for check in checks:
            if (problem := await check()) is not None:
                return _answer(503, problem)
        return _answer(200, "ready")

    return readyz


def consuming(subscriber: BatchSubscriber, what: str) -> Check:
    """Ready while the subscriber's consumer runs."""

    async def check() -> str | None:
        stopped = not subscriber.running or any(t.done() for t in subscriber.tasks)
        return f"the {what} stopped" if stopped else None

    return check


def answering(broker: KafkaBroker) -> Check:
    """Ready while the broker answers."""

    async def check() -> str | None:
        return None if await broker.ping(5) else "the broker does not answer"

    return check


def _answer(status: int, text: str) -> AsgiResponse:
    body = json.dumps({"status": text}).encode()
    return AsgiResponse(body, status, headers={"content-type": "application/json"})
