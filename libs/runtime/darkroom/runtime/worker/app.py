"""The ASGI app around a worker: health routes, and a lifespan that starts and drains it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Protocol

from aiokafka import AIOKafkaProducer
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from darkroom.runtime.kafka import KafkaProbe


class Part(Protocol):
    """Something a worker runs: a consumer loop, the control tail."""

    @property
    def alive(self) -> bool: ...

    @property
    def running(self) -> int: ...

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


@dataclass
class WorkerParts:
    """What a worker runs: made inside the event loop, as aiokafka's clients must be."""

    consumers: Sequence[Part]
    producer: AIOKafkaProducer

    @property
    def alive(self) -> bool:
        return all(c.alive for c in self.consumers)

    @property
    def running(self) -> int:
        return sum(c.running for c in self.consumers)


def worker_app(
    build: Callable[[], WorkerParts],
    probe: KafkaProbe,
    on_startup: Sequence[Callable[[], Awaitable[None]]] = (),
) -> Starlette:
    """`/healthz`: the consumer loop runs; `/readyz`: and the broker answers.

    On shutdown (SIGTERM through uvicorn) the consumer stops fetching and drains before the
    producer closes, so the outcomes of running jobs still reach the broker.
    """

    parts: list[WorkerParts] = []

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        for hook in on_startup:
            await hook()
        parts.append(build())
        consumers, producer = parts[0].consumers, parts[0].producer
        await producer.start()
        try:
            for consumer in consumers:
                await consumer.start()
            try:
                yield
            finally:
                await asyncio.gather(*(c.stop() for c in consumers))
        finally:
            await producer.stop()
            await probe.close()

    async def healthz(_: Request) -> JSONResponse:
        ok = bool(parts) and parts[0].alive
        return JSONResponse({"status": "ok" if ok else "consumer stopped"}, 200 if ok else 503)

    async def readyz(_: Request) -> JSONResponse:
        if not parts or not parts[0].alive:
            return JSONResponse({"status": "consumer stopped"}, 503)
        try:
            await probe.check()
        except Exception as exc:
            return JSONResponse({"status": f"broker unreachable: {exc!r}"}, 503)
        return JSONResponse({"status": "ok", "running": parts[0].running})

    routes = [Route("/healthz", healthz), Route("/readyz", readyz)]
    return Starlette(routes=routes, lifespan=lifespan)
