"""The SSE streams: each is a tail of the recorded history, woken by the hub's live events.

A live event is never sent as it came from Kafka: the stream waits until the database has
judged it, then sends the accepted events after its cursor, read from the database. An event
the projector refused is therefore never sent, live or on resume.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import AsyncGenerator, Awaitable, Callable, Sequence
from contextlib import aclosing
from datetime import datetime

from sse_starlette import ServerSentEvent

from darkroom.contracts.events import JobEvent, encode_event, is_terminal
from darkroom.notifier.consistency import when_recorded
from darkroom.notifier.hub import Hub, StreamOverflow, Subscription
from darkroom.runtime.db.history import EventHistory, RecordedEvent

PAGE = 500  # events read per query: what a stream holds at once while catching up
RESYNC_S = 15.0  # a stream that heard nothing this long reads the database anyway
ReadAfter = Callable[[int], Awaitable[list[RecordedEvent]]]
EXPIRED = ServerSentEvent(comment="token expired: reconnect with a fresh one and Last-Event-ID")
logger = logging.getLogger(__name__)


def to_sse(event: JobEvent, event_id: str) -> ServerSentEvent:
    return ServerSentEvent(data=encode_event(event).decode(), event=event.type, id=event_id)


async def until_expiry(
    expires_at: datetime | None,
    stream: AsyncGenerator[ServerSentEvent, None],
    now: Callable[[], float] = time.time,
) -> AsyncGenerator[ServerSentEvent, None]:
    """`stream` until `expires_at` (the expiry of the token that opened it), then a comment
    saying so and the end: the client reconnects with a fresh token and its Last-Event-ID.

    A stream cut while it waits or reads has sent nothing it has not numbered, so nothing is
    lost; `expires_at=None` never ends it. `now` is the wall clock the expiry is read on.
    """
    loop = asyncio.get_running_loop()
    deadline = None if expires_at is None else loop.time() + expires_at.timestamp() - now()
    async with aclosing(stream):
        while deadline is None or loop.time() < deadline:
            timer = asyncio.timeout_at(deadline)
            try:
                async with timer:
                    item = await anext(stream)
            except StopAsyncIteration:
                return
            except TimeoutError:
                if not timer.expired():
                    raise  # the stream's own timeout, not the token's
                break
            yield item
    logger.debug("a stream's token expired at %s; the stream ends", expires_at)
    yield EXPIRED


async def wakeups(
    sub: Subscription,
    history: EventHistory,
    settle_s: float,
    first: Sequence[JobEvent] = (),
    resync_s: float | None = None,
) -> AsyncGenerator[list[RecordedEvent] | None, None]:
    """Each batch the hub queued for the stream, once every event in it is recorded: the accepted
    ones, with their recorded ids. The first batch is `first` (maybe empty), at once. After
    `resync_s` without news it yields None: read the database anyway (the hub hears nothing
    while the broker is away or lost its log; the database still has what was recorded).

    Ends when the stream fell behind the hub: the client reconnects and resumes.
    """
    batch = list(first)
    while True:
        verdicts = await when_recorded(batch, history, settle_s)
        yield [
            RecordedEvent(v.id, e)
            for e in batch
            if (v := verdicts.get(e.event_id)) is not None and v.accepted
        ]
        try:
            async with asyncio.timeout(resync_s or RESYNC_S):
                batch = [await sub.next(), *sub.drain()]
        except StreamOverflow:
            return
        except TimeoutError:
            batch = []
            yield None


async def job_stream(
    job_id: uuid.UUID, after_seq: int, hub: Hub, history: EventHistory, settle_s: float = 10.0
) -> AsyncGenerator[ServerSentEvent, None]:
    """The job's accepted events with seq > after_seq, by seq, once each (SSE id: the seq);
    ends after a terminal event that is the newest recorded (a job that failed and was sent
    back to the queue goes on past its `job.failed`).

    Subscribing comes before the first read, and the hub's memory of the job's recent events
    (maybe not recorded yet) is the first wake-up, so no event falls between history and live.
    """
    with hub.job(job_id) as sub:
        last, fresh = after_seq, True
        async with aclosing(wakeups(sub, history, settle_s, sub.recent)) as wakes:
            async for woken in wakes:
                if not fresh and woken is not None and all(r.event.seq <= last for r in woken):
                    continue  # already sent, or refused: nothing new to read
                fresh = False
                recorded = await history.job_events_after(job_id, last)
                for r in recorded:
                    last = r.event.seq
                    yield to_sse(r.event, str(last))
                if recorded and is_terminal(recorded[-1].event):
                    return


async def family_stream(
    parent_id: uuid.UUID, after_id: int, hub: Hub, history: EventHistory, settle_s: float = 10.0
) -> AsyncGenerator[ServerSentEvent, None]:
    """A batch's or chain's accepted events and all its children's, in recorded order, once
    each (SSE id: the recorded id); ends after the parent's terminal event.

    Children cancelled with their parent may be recorded after its `job.cancelled`; the stream
    ends at the parent's, as a client expects.
    """

    def read(cursor: int) -> Awaitable[list[RecordedEvent]]:
        return history.family_events_after(parent_id, cursor, PAGE)

    with hub.job(parent_id) as sub:  # the hub hands a parent's streams its children's events
        woken = wakeups(sub, history, settle_s, sub.recent)
        async with aclosing(_recorded_pages(woken, after_id, read)) as pages:
            async for page in pages:
                for i, r in enumerate(page):
                    yield to_sse(r.event, str(r.id))
                    if _ends_family(parent_id, r, page[i + 1 :]):
                        return


async def user_stream(
    user_id: str, after_id: int, hub: Hub, history: EventHistory, settle_s: float = 10.0
) -> AsyncGenerator[ServerSentEvent, None]:
    """The accepted events of all the user's jobs recorded after `after_id`, in recorded order,
    once each (SSE id: the recorded id); it never ends by itself.

    Events go out in batches of whatever the hub queued, each batch once it is recorded: one
    check and one read per batch keep the stream up with many jobs at once.
    """

    def read(cursor: int) -> Awaitable[list[RecordedEvent]]:
        return history.user_events_after(user_id, cursor, PAGE)

    with hub.user(user_id) as sub:
        woken = wakeups(sub, history, settle_s)
        async with aclosing(_recorded_pages(woken, after_id, read)) as pages:
            async for page in pages:
                for r in page:
                    yield to_sse(r.event, str(r.id))


async def _recorded_pages(
    woken_batches: AsyncGenerator[list[RecordedEvent] | None, None], after_id: int, read: ReadAfter
) -> AsyncGenerator[list[RecordedEvent], None]:
    """Pages of the events after `after_id` in recorded order, read again on each wake-up that
    may bring something new (the first always does)."""
    cursor, fresh = after_id, True
    async with aclosing(woken_batches):
        async for woken in woken_batches:
            if not fresh and woken is not None and all(r.id <= cursor for r in woken):
                continue  # already sent, or refused: nothing new to read
            fresh = False
            while True:
                page = await read(cursor)
                if page:
                    cursor = page[-1].id
                    yield page
                if len(page) < PAGE:
                    break


def _ends_family(parent_id: uuid.UUID, sent: RecordedEvent, after: list[RecordedEvent]) -> bool:
    """Whether `sent` is the parent's terminal event and its newest (parents are not sent back
    to the queue today, but a `job.requeued` after it would carry on, as for a job)."""
    if sent.event.job_id != parent_id or not is_terminal(sent.event):
        return False
    return not any(later.event.job_id == parent_id for later in after)
