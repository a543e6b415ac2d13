"""A job's SSE stream: the recorded history, then live events once the database has them, each
once and in order, ending at the newest terminal event; refused events never appear."""

import asyncio
import logging
from contextlib import aclosing

import pytest

from darkroom.contracts.events import parse_event
from darkroom.notifier.hub import Hub
from darkroom.notifier.streams import job_stream
from tests.factories import job_progress, job_timeline
from tests.unit.notifier.fakes import FakeHistory, collect, live, seqs, subscribed, take

FULL_RUN = ("job.queued", "job.started", "job.progress", "job.completed")


async def test_history_is_replayed_in_order_then_live_events_follow() -> None:
    events, hub, history = job_timeline(*FULL_RUN), Hub(), FakeHistory()
    history.record(*events[:2])
    async with aclosing(job_stream(events[0].job_id, 0, hub, history)) as stream:  # type: ignore[arg-type]
        replayed = await take(stream, 2)
        live(hub, history, *events[2:])
        rest = await collect(stream)

    assert seqs(replayed) == [1, 2]
    assert seqs(rest) == [3, 4]


async def test_a_refused_event_is_never_sent_live_or_on_replay() -> None:
    events, hub, history = job_timeline(*FULL_RUN), Hub(), FakeHistory()
    stale = job_progress(job_id=events[0].job_id, user_id=events[0].user_id, seq=9, attempt=7)
    history.record(events[0], events[1])
    history.record(stale, accepted=False)  # in the history, refused
    async with aclosing(job_stream(events[0].job_id, 0, hub, history)) as stream:  # type: ignore[arg-type]
        replayed = await take(stream, 2)
        live(hub, history, stale, accepted=False)  # and again live, a redelivery
        live(hub, history, *events[2:])
        rest = await collect(stream)

    assert seqs(replayed + rest) == [1, 2, 3, 4]


async def test_a_live_event_waits_until_the_database_has_recorded_it() -> None:
    events, hub, history = job_timeline(*FULL_RUN), Hub(), FakeHistory()
    history.record(*events[:3])
    async with aclosing(job_stream(events[0].job_id, 0, hub, history)) as stream:  # type: ignore[arg-type]
        await take(stream, 3)
        history.record_later(events[3], lag=3)  # the projector is a little behind
        hub.publish(events[3])
        queries = history.verdict_queries
        rest = await collect(stream)

    assert seqs(rest) == [4]
    assert history.verdict_queries - queries == 3


async def test_a_stream_waits_for_an_unrecorded_event_warning_every_settle_s(
    caplog: pytest.LogCaptureFixture,
) -> None:
    events, hub, history = job_timeline(*FULL_RUN), Hub(), FakeHistory()
    history.record(*events[:3])
    history.record_later(events[3], lag=None)  # the projector is down
    stream = job_stream(events[0].job_id, 0, hub, history, settle_s=0.1)  # type: ignore[arg-type]
    async with aclosing(stream):
        await take(stream, 3)
        hub.publish(events[3])
        with caplog.at_level(logging.WARNING), pytest.raises(TimeoutError):
            async with asyncio.timeout(0.35):
                await anext(stream)

    warnings = [r for r in caplog.records if "not recorded" in r.getMessage()]
    assert 2 <= len(warnings) <= 4


async def test_an_unrecorded_event_in_the_hubs_memory_is_waited_for_then_sent() -> None:
    events, hub, history = job_timeline(*FULL_RUN), Hub(), FakeHistory()
    history.record(*events[:3])
    history.record_later(events[3], lag=2)
    for event in events:
        hub.publish(event)  # before the stream subscribes: only the hub's memory has them

    sent = await collect(job_stream(events[0].job_id, 0, hub, history))  # type: ignore[arg-type]

    assert seqs(sent) == [1, 2, 3, 4]


async def test_events_up_to_after_seq_are_skipped_wherever_they_come_from() -> None:
    events, hub, history = job_timeline(*FULL_RUN, "job.progress"), Hub(), FakeHistory()
    for event in events[:2]:
        hub.publish(event)  # recent memory: seqs 1 and 2
    history.record(*events[:2])
    async with aclosing(job_stream(events[0].job_id, 1, hub, history)) as stream:  # type: ignore[arg-type]
        first = await take(stream, 1)
        hub.publish(events[0])  # a late duplicate
        live(hub, history, events[2])
        hub.publish(events[1])  # another
        live(hub, history, events[3])
        rest = await collect(stream)

    assert seqs(first + rest) == [2, 3, 4]


@pytest.mark.parametrize("terminal", ["job.completed", "job.failed"])
async def test_the_stream_ends_right_after_a_live_terminal_event(terminal: str) -> None:
    events, hub, history = job_timeline("job.queued", "job.started", terminal), Hub(), FakeHistory()
    history.record(events[0])
    stream = job_stream(events[0].job_id, 0, hub, history)  # type: ignore[arg-type]
    first = await take(stream, 1)
    live(hub, history, *events[1:])

    sent = first + await collect(stream)

    assert seqs(sent) == [1, 2, 3]
    assert sent[-1].event == terminal and hub.open_streams == 0


async def test_a_late_subscriber_gets_the_history_and_the_stream_ends() -> None:
    events, hub, history = job_timeline(*FULL_RUN), Hub(), FakeHistory()
    history.record(*events)

    sent = await collect(job_stream(events[0].job_id, 0, hub, history))  # type: ignore[arg-type]

    assert seqs(sent) == [1, 2, 3, 4]
    assert hub.open_streams == 0 and history.reads == 1


async def test_other_jobs_events_do_not_appear() -> None:
    events, others, hub, history = (
        job_timeline(*FULL_RUN),
        job_timeline(*FULL_RUN),
        Hub(),
        FakeHistory(),
    )
    history.record(events[0])
    stream = job_stream(events[0].job_id, 0, hub, history)  # type: ignore[arg-type]
    first = await take(stream, 1)
    live(hub, history, *others, *events[1:])

    sent = first + await collect(stream)

    assert {parse_event(s.data).job_id for s in sent} == {events[0].job_id}
    assert seqs(sent) == [1, 2, 3, 4]


async def test_a_stream_that_falls_behind_ends_so_the_client_resumes() -> None:
    kinds = ("job.queued", "job.started", "job.progress", "job.progress")
    events, hub, history = job_timeline(*kinds), Hub(queue_size=1), FakeHistory()
    history.record(events[0])
    stream = job_stream(events[0].job_id, 0, hub, history)  # type: ignore[arg-type]
    first = await take(stream, 1)
    live(hub, history, *events[1:])  # three events for a queue of one

    sent = first + await collect(stream)

    assert seqs(sent) == [1, 2, 3, 4]  # the wake-up that fitted read all that was recorded
    assert hub.open_streams == 0  # then it ended, though the job has not


async def test_a_wake_up_by_events_already_sent_reads_nothing_again() -> None:
    events, hub, history = job_timeline(*FULL_RUN), Hub(), FakeHistory()
    history.record(*events[:3])
    stream = job_stream(events[0].job_id, 0, hub, history)  # type: ignore[arg-type]
    async with aclosing(stream):
        await take(stream, 3)
        pending = asyncio.ensure_future(anext(stream))
        await subscribed()
        for event in events[:3]:
            hub.publish(event)  # the tail read them again (the projector had not committed)
        await subscribed()
        assert not pending.done() and history.reads == 1
        live(hub, history, events[3])
        assert seqs([await pending]) == [4]
    assert history.reads == 2


async def test_a_job_sent_back_to_the_queue_streams_on_past_its_earlier_failure() -> None:
    kinds = (
        "job.queued",
        "job.started",
        "job.failed",
        "job.requeued",
        "job.started",
        "job.completed",
    )
    events, hub, history = job_timeline(*kinds), Hub(), FakeHistory()
    history.record(*events)

    sent = await collect(job_stream(events[0].job_id, 0, hub, history))  # type: ignore[arg-type]

    assert seqs(sent) == [1, 2, 3, 4, 5, 6]
    assert sent[-1].event == "job.completed"
