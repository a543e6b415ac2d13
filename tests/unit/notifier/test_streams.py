"""A job's SSE stream: history, then live events, each once and in order, ending at the terminal one."""

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable, Collection, Sequence
from contextlib import aclosing

import pytest
from sse_starlette import ServerSentEvent

from darkroom.contracts.events import JobEvent, parse_event
from darkroom.notifier.hub import Hub
from darkroom.notifier.streams import job_stream, user_stream
from tests.factories import job_timeline

FULL_RUN = ("job.queued", "job.started", "job.progress", "job.completed")


class FakeEventStore:
    """The recorded history; `during_read` runs inside `events_for`, before the history is returned.

    `recorded_events` finds every event asked about (the projector has caught up) unless
    `unrecorded_checks` says how many times it must find none first.
    """

    def __init__(
        self,
        history: Sequence[JobEvent],
        during_read: Callable[[], None] | None = None,
        unrecorded_checks: float = 0,
    ) -> None:
        self.history = list(history)
        self.during_read = during_read
        self.unrecorded_checks = unrecorded_checks
        self.checked: list[uuid.UUID] = []
        self.queries = 0

    async def events_for(self, job_id: uuid.UUID, after_seq: int = 0) -> list[JobEvent]:
        if self.during_read is not None:
            self.during_read()
        found = [e for e in self.history if e.job_id == job_id and e.seq > after_seq]
        return sorted(found, key=lambda e: e.seq)

    async def recorded_events(self, event_ids: Collection[uuid.UUID]) -> set[uuid.UUID]:
        self.checked.extend(event_ids)
        self.queries += 1
        return set(event_ids) if len(self.checked) > self.unrecorded_checks else set()


def publish_all(hub: Hub, events: Sequence[JobEvent]) -> Callable[[], None]:
    def publish() -> None:
        for event in events:
            hub.publish(event)

    return publish


def seqs(sent: Sequence[ServerSentEvent]) -> list[int]:
    """The seq of each sent event, checking that the SSE id, name and data agree with it."""
    for item in sent:
        event = parse_event(item.data)
        assert (item.id, item.event) == (str(event.seq), event.type)
    return [parse_event(item.data).seq for item in sent]


async def collect(stream: AsyncIterator[ServerSentEvent]) -> list[ServerSentEvent]:
    """Everything the stream sends until it ends by itself (a hang fails the test)."""
    async with asyncio.timeout(2):
        return [item async for item in stream]


async def test_history_is_replayed_in_order_then_live_events_follow() -> None:
    events, hub = job_timeline(*FULL_RUN), Hub()
    store = FakeEventStore(events[:2])
    async with aclosing(job_stream(events[0].job_id, 0, hub, store)) as stream:  # type: ignore[arg-type]
        replayed = [await anext(stream), await anext(stream)]
        publish_all(hub, events[2:])()
        live = await collect(stream)

    assert seqs(replayed) == [1, 2]
    assert seqs(live) == [3, 4]


async def test_events_both_in_history_and_in_recent_memory_are_sent_once() -> None:
    events, hub = job_timeline(*FULL_RUN), Hub()
    publish_all(hub, events[1:])()  # the projector has stored only the first three
    store = FakeEventStore(events[:3])

    sent = await collect(job_stream(events[0].job_id, 0, hub, store))  # type: ignore[arg-type]

    assert seqs(sent) == [1, 2, 3, 4]


async def test_events_up_to_after_seq_are_skipped_wherever_they_come_from() -> None:
    events, hub = job_timeline(*FULL_RUN, "job.progress"), Hub()
    publish_all(hub, events[:2])()  # recent memory: seqs 1 and 2
    live = [events[0], events[2], events[1], events[3]]  # live: 1, 3, 2 (late duplicate), 4
    store = FakeEventStore(events[:2], during_read=publish_all(hub, live))

    sent = await collect(job_stream(events[0].job_id, 1, hub, store))  # type: ignore[arg-type]

    assert seqs(sent) == [2, 3, 4]


@pytest.mark.parametrize("terminal", ["job.completed", "job.failed"])
async def test_the_stream_ends_right_after_a_live_terminal_event(terminal: str) -> None:
    events, hub = job_timeline("job.queued", "job.started", terminal, "job.progress"), Hub()
    store = FakeEventStore(events[:1], during_read=publish_all(hub, events[1:]))

    sent = await collect(job_stream(events[0].job_id, 0, hub, store))  # type: ignore[arg-type]

    assert seqs(sent) == [1, 2, 3]
    assert sent[-1].event == terminal


@pytest.mark.parametrize("terminal", ["job.completed", "job.failed"])
async def test_a_late_subscriber_gets_the_history_and_the_stream_ends(terminal: str) -> None:
    events, hub = job_timeline("job.queued", "job.started", terminal), Hub()

    sent = await collect(job_stream(events[0].job_id, 0, hub, FakeEventStore(events)))  # type: ignore[arg-type]

    assert seqs(sent) == [1, 2, 3]
    assert hub.open_streams == 0


async def test_an_event_published_between_subscribe_and_history_read_is_not_lost() -> None:
    events, hub = job_timeline(*FULL_RUN), Hub()
    store = FakeEventStore(events[:2], during_read=publish_all(hub, events[2:]))

    sent = await collect(job_stream(events[0].job_id, 0, hub, store))  # type: ignore[arg-type]

    assert seqs(sent) == [1, 2, 3, 4]


async def test_other_jobs_events_do_not_appear() -> None:
    events, others, hub = job_timeline(*FULL_RUN), job_timeline(*FULL_RUN), Hub()
    store = FakeEventStore(events[:1], during_read=publish_all(hub, others + events[1:]))

    sent = await collect(job_stream(events[0].job_id, 0, hub, store))  # type: ignore[arg-type]

    assert {parse_event(s.data).job_id for s in sent} == {events[0].job_id}
    assert seqs(sent) == [1, 2, 3, 4]


async def test_a_stream_that_falls_behind_ends_so_the_client_resumes() -> None:
    events, hub = job_timeline(*FULL_RUN), Hub(queue_size=1)
    store = FakeEventStore(events[:1], during_read=publish_all(hub, events[1:]))

    sent = await collect(job_stream(events[0].job_id, 0, hub, store))  # type: ignore[arg-type]

    assert seqs(sent) == [1, 2]


async def test_a_terminal_event_waits_until_the_store_has_recorded_it() -> None:
    events, hub = job_timeline(*FULL_RUN), Hub()
    store = FakeEventStore(events[:3], publish_all(hub, events[3:]), unrecorded_checks=2)

    sent = await collect(job_stream(events[0].job_id, 0, hub, store, settle_s=2))  # type: ignore[arg-type]

    assert seqs(sent) == [1, 2, 3, 4]
    assert store.checked == [events[3].event_id] * 3  # only the terminal event is checked


async def test_a_terminal_event_the_store_never_records_is_sent_after_the_settle_time() -> None:
    events, hub = job_timeline(*FULL_RUN), Hub()
    store = FakeEventStore(events[:3], publish_all(hub, events[3:]), unrecorded_checks=float("inf"))

    sent = await collect(job_stream(events[0].job_id, 0, hub, store, settle_s=0.05))  # type: ignore[arg-type]

    assert seqs(sent) == [1, 2, 3, 4]


async def test_a_user_stream_checks_the_terminal_events_of_a_batch_of_jobs_in_one_query() -> None:
    hub, user = Hub(), "user-batch"
    jobs = [job_timeline("job.started", "job.completed", user_id=user) for _ in range(5)]
    store = FakeEventStore([])
    stream = user_stream(user, hub, store, settle_s=2)  # type: ignore[arg-type]
    async with aclosing(stream):
        first = asyncio.ensure_future(anext(stream))
        await asyncio.sleep(0)  # the stream is subscribed and waiting
        for events in jobs:
            for event in events:
                hub.publish(event)
        sent = [await first] + [await anext(stream) for _ in range(9)]
    assert len(sent) == 10
    assert len(store.checked) == 5 and store.queries == 1  # five terminal events, one query


async def test_a_job_sent_back_to_the_queue_streams_on_past_its_earlier_failure() -> None:
    events = job_timeline(
        "job.queued", "job.started", "job.failed", "job.requeued", "job.started", "job.completed"
    )
    hub = Hub()

    sent = await collect(job_stream(events[0].job_id, 0, hub, FakeEventStore(events)))  # type: ignore[arg-type]

    assert seqs(sent) == [1, 2, 3, 4, 5, 6]
    assert sent[-1].event == "job.completed"
