"""In-memory stand-ins for the job store and the Kafka producer (cosmic-style fakes)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from darkroom.contracts.events import JobEvent
from darkroom.runtime.db import NewJob, OutboxMessage, OutboxRow
from darkroom.runtime.db.store import NewJobWrite

SEND_DEADLINE_S = 2.0


class FakeJobStore:
    """Records what the use cases ask of the store; `log` is shared with the fake producer."""

    def __init__(self, outbox: Sequence[OutboxRow] = (), log: list[str] | None = None) -> None:
        self.created: list[tuple[NewJob, list[JobEvent], list[OutboxMessage]]] = []
        self.applied: list[list[tuple[JobEvent, dict[str, Any]]]] = []
        self.outbox = list(outbox)
        self.deleted: list[int] = []
        self.log = log if log is not None else []

    async def create_job(
        self, job: NewJob, events: Sequence[JobEvent], messages: Sequence[OutboxMessage]
    ) -> None:
        self.created.append((job, list(events), list(messages)))

    async def create_jobs(self, writes: Sequence[NewJobWrite]) -> None:
        for job, events, messages in writes:
            await self.create_job(job, events, messages)

    async def apply_events(
        self, changes: Sequence[tuple[JobEvent, dict[str, Any]]], react: Any = None
    ) -> int:
        self.applied.append(list(changes))
        return len(changes)

    async def fetch_outbox(self, limit: int) -> list[OutboxRow]:
        return self.outbox[:limit]

    async def delete_outbox(self, ids: Sequence[int]) -> None:
        self.log.append(f"delete {sorted(ids)}")
        self.deleted.extend(ids)
        self.outbox = [r for r in self.outbox if r.id not in ids]


class FakeProducer:
    """`send` returns a future that the test settles; every send and ack is written to `log`.

    With `auto_ack`, each future is acknowledged on the next loop turn, as a broker would a
    little later; `fail` names topics whose sends are refused instead.
    """

    def __init__(
        self, log: list[str], auto_ack: bool = True, fail: frozenset[str] = frozenset()
    ) -> None:
        self.log = log
        self.auto_ack = auto_ack
        self.fail = fail
        self.sent: list[dict[str, Any]] = []
        self.pending: list[asyncio.Future[None]] = []
        self._sent_signal = asyncio.Event()

    async def send(
        self, topic: str, value: bytes, key: bytes, headers: list[tuple[str, bytes]]
    ) -> asyncio.Future[None]:
        label = f"{topic} {key.decode()}"
        self.log.append(f"send {label}")
        self.sent.append({"topic": topic, "value": value, "key": key, "headers": headers})
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        future.add_done_callback(lambda f: self._settled(label, f))
        if topic in self.fail:
            asyncio.get_running_loop().call_soon(future.set_exception, ConnectionError(topic))
        elif self.auto_ack:
            asyncio.get_running_loop().call_soon(future.set_result, None)
        self.pending.append(future)
        self._sent_signal.set()
        return future

    def _settled(self, label: str, future: asyncio.Future[None]) -> None:
        failed = future.cancelled() or future.exception() is not None
        self.log.append(f"{'fail' if failed else 'ack'} {label}")

    def ack_all(self) -> None:
        for future in self.pending:
            if not future.done():
                future.set_result(None)

    async def wait_for_sends(self, count: int) -> None:
        async with asyncio.timeout(SEND_DEADLINE_S):
            while len(self.sent) < count:
                self._sent_signal.clear()
                await self._sent_signal.wait()
