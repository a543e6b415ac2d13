"""Fan-out of live events to open streams (they wake them up: streams send what the database
has recorded), and a memory of each recent job's latest events."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections import OrderedDict, deque
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TypeVar

from darkroom.contracts.events import JobEvent

K = TypeVar("K")
logger = logging.getLogger(__name__)


class StreamOverflow(Exception):
    """The client read too slowly and missed events; it must reconnect (and resume)."""


class Subscription:
    """The live events one stream receives."""

    def __init__(self, queue_size: int, recent: list[JobEvent] | None = None) -> None:
        self.queue: asyncio.Queue[JobEvent] = asyncio.Queue(queue_size)
        self.recent = recent or []
        self.overflowed = False

    def offer(self, event: JobEvent) -> None:
        try:
            self.queue.put_nowait(event)
        except asyncio.QueueFull:
            if not self.overflowed:
                logger.warning(
                    "a stream fell %d events behind; it is closed (the client reconnects)",
                    self.queue.maxsize,
                )
            self.overflowed = True

    def drain(self) -> list[JobEvent]:
        """Every event already queued, without waiting."""
        events = []
        while not self.queue.empty():
            events.append(self.queue.get_nowait())
        return events

    async def next(self) -> JobEvent:
        if self.overflowed and self.queue.empty():
            raise StreamOverflow("the stream fell behind")
        return await self.queue.get()


class Hub:
    """Routes each event to the streams of its job (and of its parent, for a child of a batch or
    chain) and of its user.

    The recent events of each job are kept (bounded), because an event can reach the notifier
    before the projector has stored it: a job stream that starts then finds it here, waits for
    the database to record it, and misses nothing.
    """

    def __init__(
        self, queue_size: int = 1000, recent_jobs: int = 10_000, recent_per_job: int = 256
    ) -> None:
        self.queue_size = queue_size
        self.recent_jobs = recent_jobs
        self.recent_per_job = recent_per_job
        self._by_job: dict[uuid.UUID, set[Subscription]] = {}
        self._by_user: dict[str, set[Subscription]] = {}
        self._recent: OrderedDict[uuid.UUID, deque[JobEvent]] = OrderedDict()

    def publish(self, event: JobEvent) -> None:
        self._remember(event)
        for sub in self._by_job.get(event.job_id, ()):
            sub.offer(event)
        if event.parent_id is not None:  # a child of a batch or chain: its parent's streams too
            for sub in self._by_job.get(event.parent_id, ()):
                sub.offer(event)
        for sub in self._by_user.get(event.user_id, ()):
            sub.offer(event)

    def _remember(self, event: JobEvent) -> None:
        recent = self._recent.get(event.job_id)
        if recent is None:
            recent = self._recent[event.job_id] = deque(maxlen=self.recent_per_job)
            if len(self._recent) > self.recent_jobs:
                self._recent.popitem(last=False)
        else:
            self._recent.move_to_end(event.job_id)
        recent.append(event)

    def forget_recent(self) -> None:
        """Forget the recent events (the broker lost its log: the ones not recorded never
        will be, and a new stream must not wait for them)."""
        self._recent.clear()

    @contextmanager
    def job(self, job_id: uuid.UUID) -> Iterator[Subscription]:
        """Live events of one job, with the job's recent events as of subscribing."""
        sub = Subscription(self.queue_size, list(self._recent.get(job_id, ())))
        with _member(self._by_job, job_id, sub):
            yield sub

    @contextmanager
    def user(self, user_id: str) -> Iterator[Subscription]:
        """Live events of every job of one user."""
        sub = Subscription(self.queue_size)
        with _member(self._by_user, user_id, sub):
            yield sub

    @property
    def open_streams(self) -> int:
        return sum(map(len, self._by_job.values())) + sum(map(len, self._by_user.values()))


@contextmanager
def _member(index: dict[K, set[Subscription]], key: K, sub: Subscription) -> Iterator[None]:
    index.setdefault(key, set()).add(sub)
    try:
        yield
    finally:
        members = index.get(key)
        if members is not None:
            members.discard(sub)
            if not members:
                del index[key]
