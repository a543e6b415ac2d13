"""A fake recorded history for the stream tests, and helpers to drive and read streams."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Collection, Sequence
from dataclasses import dataclass

from sse_starlette import ServerSentEvent

from darkroom.contracts.events import JobEvent, parse_event
from darkroom.notifier.hub import Hub
from darkroom.runtime.db.history import RecordedEvent, Verdict


@dataclass
class Row:
    id: int
    event: JobEvent
    accepted: bool


class FakeHistory:
    """The `job_events` table as `EventHistory` reads it. A child's parent is its event's
    `parent_id` (the real query joins `jobs.parent_id`).

    `pending` events are recorded by the `lag`-th verdict check after they were added (the
    projector lagging behind the notifier); `lag=None` never records them.
    """

    def __init__(self) -> None:
        self.rows: list[Row] = []
        self.pending: list[tuple[JobEvent, bool, float]] = []
        self.verdict_queries = 0
        self.reads = 0

    def record(self, *events: JobEvent, accepted: bool = True) -> None:
        for event in events:
            self.rows.append(Row(len(self.rows) + 1, event, accepted))

    def record_later(self, *events: JobEvent, accepted: bool = True, lag: int | None = 1) -> None:
        due = float("inf") if lag is None else self.verdict_queries + lag
        self.pending.extend((e, accepted, due) for e in events)

    def id_of(self, event: JobEvent) -> int:
        return next(r.id for r in self.rows if r.event.event_id == event.event_id)

    async def verdicts(self, event_ids: Collection[uuid.UUID]) -> dict[uuid.UUID, Verdict]:
        self.verdict_queries += 1
        for event, accepted, due in list(self.pending):
            if due <= self.verdict_queries:
                self.pending.remove((event, accepted, due))
                self.record(event, accepted=accepted)
        wanted = set(event_ids)
        return {
            r.event.event_id: Verdict(r.id, r.accepted)
            for r in self.rows
            if r.event.event_id in wanted
        }

    async def job_events_after(self, job_id: uuid.UUID, after_seq: int) -> list[RecordedEvent]:
        self.reads += 1
        found = [
            r for r in self._accepted() if r.event.job_id == job_id and r.event.seq > after_seq
        ]
        return [RecordedEvent(r.id, r.event) for r in sorted(found, key=lambda r: r.event.seq)]

    async def family_events_after(
        self, parent_id: uuid.UUID, after_id: int, limit: int
    ) -> list[RecordedEvent]:
        self.reads += 1
        family = [
            r
            for r in self._accepted()
            if parent_id in (r.event.job_id, r.event.parent_id) and r.id > after_id
        ]
        return [RecordedEvent(r.id, r.event) for r in family[:limit]]

    async def user_events_after(
        self, user_id: str, after_id: int, limit: int
    ) -> list[RecordedEvent]:
        self.reads += 1
        mine = [r for r in self._accepted() if r.event.user_id == user_id and r.id > after_id]
        return [RecordedEvent(r.id, r.event) for r in mine[:limit]]

    async def newest_id(self) -> int:
        return len(self.rows)

    def _accepted(self) -> list[Row]:
        return [r for r in self.rows if r.accepted]


def live(hub: Hub, history: FakeHistory, *events: JobEvent, accepted: bool = True) -> None:
    """Events the projector records (accepted or refused) as they reach the notifier's hub."""
    history.record_later(*events, accepted=accepted)
    for event in events:
        hub.publish(event)


def seqs(sent: Sequence[ServerSentEvent]) -> list[int]:
    """The seq of each sent event, checking that the SSE id, name and data agree with it."""
    for item in sent:
        event = parse_event(item.data)
        assert (item.id, item.event) == (str(event.seq), event.type)
    return [parse_event(item.data).seq for item in sent]


def recorded_ids(sent: Sequence[ServerSentEvent], history: FakeHistory) -> list[int]:
    """The recorded id of each sent event, checking that it is the SSE id and the event's name."""
    ids = []
    for item in sent:
        event = parse_event(item.data)
        assert (item.id, item.event) == (str(history.id_of(event)), event.type)
        ids.append(history.id_of(event))
    return ids


async def collect(stream: AsyncIterator[ServerSentEvent]) -> list[ServerSentEvent]:
    """Everything the stream sends until it ends by itself (a hang fails the test)."""
    async with asyncio.timeout(2):
        return [item async for item in stream]


async def take(stream: AsyncIterator[ServerSentEvent], count: int) -> list[ServerSentEvent]:
    """The next `count` events of a stream that does not end (a hang fails the test)."""
    async with asyncio.timeout(2):
        return [await anext(stream) for _ in range(count)]


async def subscribed() -> None:
    """Let a stream started with `asyncio.ensure_future(anext(stream))` subscribe and wait."""
    for _ in range(10):
        await asyncio.sleep(0)
