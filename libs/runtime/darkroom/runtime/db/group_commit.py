"""Group commit: concurrent writers share one transaction, and each waits for its commit."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, Protocol, TypeVar

from darkroom.jobs.records import NewJobPlan

T = TypeVar("T")


class GroupCommit(Generic[T]):
    """Coalesces concurrent `submit` calls into batches written by `write_batch`, one at a time.

    There is no timer: the first caller starts a flush, and everything submitted while a batch is
    being written goes into the next one, so a lone caller pays one transaction and a crowd
    shares them. Every caller returns only after the transaction holding its item committed (or
    raises that transaction's error), so durability before answering is unchanged.
    """

    def __init__(
        self, write_batch: Callable[[list[T]], Awaitable[None]], max_batch: int = 500
    ) -> None:
        self._write_batch = write_batch
        self._max_batch = max_batch
        self._pending: list[tuple[T, asyncio.Future[None]]] = []
        self._flusher: asyncio.Task[None] | None = None

    async def submit(self, item: T) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pending.append((item, future))
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush())
        await future

    async def _flush(self) -> None:
        while self._pending:
            batch, self._pending = (
                self._pending[: self._max_batch],
                self._pending[self._max_batch :],
            )
            try:
                await self._write_batch([item for item, _ in batch])
            except Exception as exc:
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
            else:
                for _, future in batch:
                    if not future.done():
                        future.set_result(None)


class GroupCommittingJobs:
    """`create_job` for the submit path, group-committed over `JobStore.create_jobs`.

    The jobs of one `create_jobs` call (a batch and its children) always share a transaction.
    """

    def __init__(self, store: JobStoreLike, max_batch: int = 500) -> None:
        self._store = store
        self._group: GroupCommit[Sequence[NewJobPlan]] = GroupCommit(self._write, max_batch)

    async def _write(self, families: list[Sequence[NewJobPlan]]) -> None:
        await self._store.create_jobs([plan for family in families for plan in family])

    async def create_jobs(self, plans: Sequence[NewJobPlan]) -> None:
        await self._group.submit(plans)


class JobStoreLike(Protocol):
    async def create_jobs(self, plans: Sequence[NewJobPlan]) -> None: ...
