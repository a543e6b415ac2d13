"""The SSE streams: a job's history then its live events; a user's live events."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

from sse_starlette import ServerSentEvent

from darkroom.contracts.events import JobEvent, encode_event, is_terminal
from darkroom.notifier.consistency import when_recorded
from darkroom.notifier.hub import Hub, StreamOverflow
from darkroom.runtime.db import JobStore


def to_sse(event: JobEvent, event_id: str | None) -> ServerSentEvent:
    return ServerSentEvent(data=encode_event(event).decode(), event=event.type, id=event_id)


async def job_stream(
    job_id: uuid.UUID, after_seq: int, hub: Hub, store: JobStore, settle_s: float = 10.0
) -> AsyncIterator[ServerSentEvent]:
    """Every event of the job with seq > after_seq, in order, once each; ends after the terminal one
    (the last one, for a job that failed and was sent back to the queue).

    Subscribing comes before reading the history, and the hub's recent events cover what the
    projector has not stored yet, so no event falls between history and live.

    A batch's or chain's stream also carries its children's live events, without an SSE id (the
    id stays the parent's last seq, so a reconnect resumes the parent's own events, whose
    progress sums the children up).
    """
    with hub.job(job_id) as sub:
        backlog = {e.seq: e for e in sub.recent}
        backlog.update({e.seq: e for e in await store.events_for(job_id, after_seq)})
        last, newest = after_seq, max(backlog, default=0)
        for seq in sorted(backlog):
            if seq > last:
                last = seq
                await when_recorded([backlog[seq]], store, settle_s)
                yield to_sse(backlog[seq], str(seq))
                if is_terminal(backlog[seq]) and seq == newest:
                    return  # an earlier terminal event was followed by job.requeued: go on
        while True:
            try:
                event = await sub.next()
            except StreamOverflow:
                return  # the client reconnects with Last-Event-ID and resumes from the history
            if event.job_id != job_id:  # a child's
                await when_recorded([event], store, settle_s)
                yield to_sse(event, None)
            elif event.seq > last:
                last = event.seq
                await when_recorded([event], store, settle_s)
                yield to_sse(event, str(event.seq))
                if is_terminal(event):
                    return


async def user_stream(
    user_id: str, hub: Hub, store: JobStore, settle_s: float = 10.0
) -> AsyncIterator[ServerSentEvent]:
    """Live events of all the user's jobs (ids are `job_id:seq`); it never ends by itself.

    Events go out in batches of whatever is queued, each batch once its terminal events are
    recorded: one database check per batch keeps the stream up with many jobs at once.
    """
    with hub.user(user_id) as sub:
        while True:
            try:
                batch = [await sub.next(), *sub.drain()]
            except StreamOverflow:
                return
            await when_recorded(batch, store, settle_s)
            for event in batch:
                yield to_sse(event, f"{event.job_id}:{event.seq}")
