"""The ASGI app around a worker: health routes, and a lifespan that starts and drains it."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from concurrent.futures import Executor, Future
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import ParamSpec, Protocol, TypeVar

from aiokafka import AIOKafkaProducer
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from darkroom.runtime.broker_watch import BrokerNotReady, BrokerWatch, Watching
from darkroom.runtime.kafka import start_producer

P = ParamSpec("P")
T = TypeVar("T")


class Part(Protocol):
    """Something a worker runs: a consumer loop, the control tail."""

    @property
    def alive(self) -> bool: ...

    @property
    def running(self) -> int: ...

    async def start(self) -> None: ...

    async def start_over(self) -> None: ...

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

    async def start_over(self) -> None:
        """The broker lost its log: every consumer reads the new one from its start."""
        for consumer in self.consumers:
            await consumer.start_over()


def worker_app(
    build: Callable[[], WorkerParts],
    watch: BrokerWatch,
    on_startup: Sequence[Callable[[], Awaitable[None]]] = (),
) -> Starlette:
    """`/healthz`: the consumer loop runs; `/readyz`: and the broker answers, with the log the
    consumers read (after a broker lost its log they start over from the new one's start).

    On shutdown (SIGTERM through uvicorn) the consumer stops fetching and drains before the
    producer closes, so the outcomes of running jobs still reach the broker.
    """
    host = _WorkerHost(build, watch, on_startup)
    routes = [Route("/healthz", host.healthz), Route("/readyz", host.readyz)]
    return Starlette(routes=routes, lifespan=host.lifespan)


@dataclass
class _WorkerHost:
    """The state behind `worker_app`: the parts exist once the lifespan has started."""

    build: Callable[[], WorkerParts]
    watch: BrokerWatch
    on_startup: Sequence[Callable[[], Awaitable[None]]]
    parts: WorkerParts | None = None

    @property
    def alive(self) -> bool:
        return self.parts is not None and self.parts.alive

    @asynccontextmanager
    async def lifespan(self, _: Starlette) -> AsyncIterator[None]:
        asyncio.get_running_loop().set_default_executor(DaemonThreads())
        for hook in self.on_startup:
            await hook()
        self.parts = parts = self.build()
        await start_producer(parts.producer)
        self.watch.react(parts.start_over)
        watching = Watching(self.watch)
        await watching.start()
        try:
            async with _consuming(parts.consumers):
                yield
        finally:
            await watching.stop()
            await parts.producer.stop()

    async def healthz(self, _: Request) -> JSONResponse:
        ok = self.alive
        return JSONResponse({"status": "ok" if ok else "consumer stopped"}, 200 if ok else 503)

    async def readyz(self, _: Request) -> JSONResponse:
        if self.parts is None or not self.parts.alive:
            return JSONResponse({"status": "consumer stopped"}, 503)
        try:
            await self.watch.check()
        except BrokerNotReady as exc:
            return JSONResponse({"status": str(exc)}, 503)
        return JSONResponse({"status": "ok", "running": self.parts.running})


class DaemonThreads(Executor):
    """A worker's default executor (`asyncio.to_thread`): each call in a daemon thread of its own.

    Work in a thread cannot be cancelled: a job handed back at the drain timeout may still run in
    its thread, and the interpreter waits for non-daemon threads at exit (for minutes, past any
    kill timeout). Its record is uncommitted, so nothing needs that work finished.
    """

    def submit(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> Future[T]:
        future: Future[T] = Future()

        def run() -> None:
            if not future.set_running_or_notify_cancel():
                return
            try:
                future.set_result(fn(*args, **kwargs))
            except BaseException as exc:
                future.set_exception(exc)

        threading.Thread(target=run, name="worker-job-thread", daemon=True).start()
        return future


@asynccontextmanager
async def _consuming(consumers: Sequence[Part]) -> AsyncIterator[None]:
    """Start the first part (the control tail: cancels are known before any job is taken),
    then the job consumers side by side (each joins its group: a few seconds on a broker that
    delays a group's first rebalance, paid once instead of once per consumer); on the way out
    stop them together, so they drain side by side."""
    first, rest = consumers[:1], consumers[1:]
    for consumer in first:
        await consumer.start()
    started = await asyncio.gather(*(c.start() for c in rest), return_exceptions=True)
    if failed := [r for r in started if isinstance(r, BaseException)]:
        await asyncio.gather(*(c.stop() for c in consumers), return_exceptions=True)
        raise failed[0]
    try:
        yield
    finally:
        await asyncio.gather(*(c.stop() for c in consumers))
