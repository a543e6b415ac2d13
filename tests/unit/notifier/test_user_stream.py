"""The user stream: the accepted events of all the user's jobs in recorded order, with the
recorded ids, resumable after Last-Event-ID, one check and one read per batch of live events."""

import asyncio
from contextlib import aclosing

import pytest

from darkroom.contracts.events import parse_event
from darkroom.notifier.hub import Hub
from darkroom.notifier.streams import user_stream
from tests.factories import job_progress, job_timeline, random_user_id
from tests.unit.notifier.fakes import FakeHistory, collect, live, recorded_ids, subscribed, take


async def test_a_user_stream_resumes_after_last_event_id_with_no_gap_and_no_duplicate() -> None:
    user, hub, history = random_user_id(), Hub(), FakeHistory()
    jobs = [
        job_timeline("job.queued", "job.started", "job.completed", user_id=user) for _ in range(3)
    ]
    history.record(*jobs[0], *jobs[1][:1])
    async with aclosing(user_stream(user, 0, hub, history)) as stream:  # type: ignore[arg-type]
        before = await take(stream, 2)
    history.record(*jobs[1][1:], *jobs[2])  # while the client is away

    async with aclosing(user_stream(user, int(before[-1].id), hub, history)) as stream:  # type: ignore[arg-type]
        after = await take(stream, 7)
        live(hub, history, job_progress(user_id=user))
        after += await take(stream, 1)

    sent = before + after
    assert recorded_ids(sent, history) == list(range(1, 11))
    assert len({parse_event(s.data).event_id for s in sent}) == 10


async def test_a_batch_of_live_events_costs_one_check_and_one_read() -> None:
    user, hub, history = random_user_id(), Hub(), FakeHistory()
    jobs = [job_timeline("job.started", "job.completed", user_id=user) for _ in range(5)]
    stream = user_stream(user, 0, hub, history)  # type: ignore[arg-type]
    async with aclosing(stream):
        first = asyncio.ensure_future(anext(stream))
        await subscribed()  # subscribed, read the (empty) history, waiting
        assert history.reads == 1
        for events in jobs:
            live(hub, history, *events)
        sent = [await first, *await take(stream, 9)]

    assert recorded_ids(sent, history) == list(range(1, 11))
    assert history.verdict_queries == 1 and history.reads == 2


async def test_refused_events_and_other_users_events_never_appear() -> None:
    user, hub, history = random_user_id(), Hub(), FakeHistory()
    mine, theirs = (
        job_timeline("job.queued", "job.started", user_id=user),
        job_timeline("job.queued"),
    )
    stale = job_progress(job_id=mine[0].job_id, user_id=user, attempt=4)
    stream = user_stream(user, 0, hub, history)  # type: ignore[arg-type]
    async with aclosing(stream):
        first = asyncio.ensure_future(anext(stream))
        await subscribed()
        live(hub, history, mine[0], *theirs)
        live(hub, history, stale, accepted=False)
        live(hub, history, mine[1])
        sent = [await first, *await take(stream, 1)]
        with pytest.raises(TimeoutError):  # nothing else comes
            async with asyncio.timeout(0.05):
                await anext(stream)

    assert [parse_event(s.data) for s in sent] == mine


async def test_a_user_stream_that_falls_behind_ends_so_the_client_resumes() -> None:
    user, hub, history = random_user_id(), Hub(queue_size=2), FakeHistory()
    events = job_timeline("job.queued", "job.started", "job.progress", user_id=user)
    stream = user_stream(user, 0, hub, history)  # type: ignore[arg-type]
    first = asyncio.ensure_future(anext(stream))
    await subscribed()
    live(hub, history, *events)

    sent = [await first, *await collect(stream)]

    assert recorded_ids(sent, history) == [1, 2, 3]
    assert hub.open_streams == 0
