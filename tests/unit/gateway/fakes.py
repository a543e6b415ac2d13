"""In-memory stand-ins for the job store and the Kafka producer (cosmic-style fakes)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from darkroom.jobs.records import Change, JobRecord, NewJobPlan, Plan
from darkroom.runtime.db import OutboxRow

SEND_DEADLINE_S = 2.0


class FakeOutbox:
    """The outbox as a list; every delete is written to the shared `log`."""

    def __init__(self, rows: Sequence[OutboxRow], log: list[str]) -> None:
        self.rows = list(rows)
        self.deleted: list[int] = []
        self.log = log

    async def fetch(self, limit: int) -> list[OutboxRow]:
        return self.rows[:limit]

    async def delete(self, ids: Sequence[int]) -> None:
        self.log.append(f"delete {sorted(ids)}")
        self.deleted.extend(ids)
        self.rows = [r for r in self.rows if r.id not in ids]


class FakeJobStore:
    """Records what the use cases ask of the store; `log` is shared with the fake producer.

    `jobs` are the rows `change_job`/`change_family` decide from; the plans they are handed back
    are kept in `planned`, not applied."""

    def __init__(
        self,
        outbox: Sequence[OutboxRow] = (),
        log: list[str] | None = None,
        jobs: Iterable[JobRecord] = (),
    ) -> None:
        self.log = log if log is not None else []
        self.created: list[NewJobPlan] = []
        self.applied: list[list[Change]] = []
        self.outbox = FakeOutbox(outbox, self.log)
        self.jobs = {job.job_id: job for job in jobs}
        self.planned: list[Plan] = []

    async def create_jobs(self, plans: Sequence[NewJobPlan]) -> None:
        self.created.extend(plans)

    async def apply_events(self, changes: Sequence[Change], react: Any = None) -> int:
        self.applied.append(list(changes))
        return len(changes)

    async def get_job(self, job_id: uuid.UUID) -> JobRecord | None:
        return self.jobs.get(job_id)

    async def change_job(
        self, job_id: uuid.UUID, decide: Callable[[JobRecord], Plan]
    ) -> JobRecord | None:
        record = self.jobs.get(job_id)
        if record is not None:
            self.planned.append(decide(record))
        return record

    async def change_family(
        self, parent_id: uuid.UUID, decide: Callable[[JobRecord, list[JobRecord]], Plan]
    ) -> JobRecord | None:
        parent = self.jobs.get(parent_id)
        if parent is not None:
            children = [j for j in self.jobs.values() if j.parent_id == parent_id]
            children.sort(key=lambda j: (j.created_at, str(j.job_id)))
            self.planned.append(decide(parent, children))
        return parent


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
