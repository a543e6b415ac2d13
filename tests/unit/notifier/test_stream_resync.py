"""A stream whose hub hears nothing (the broker is away, or lost its log with events the tail had
read) still sends what the database records, and never waits forever for an event that the
database will never record."""

import asyncio
import time

import pytest

from darkroom.notifier import streams
from darkroom.notifier.consistency import when_recorded
from darkroom.notifier.hub import Hub
from darkroom.notifier.streams import job_stream, user_stream
from tests.factories import job_timeline, random_user_id
from tests.unit.notifier.fakes import FakeHistory, collect, take


async def test_a_job_stream_sends_what_the_database_records_while_the_hub_is_silent(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(streams, "RESYNC_S", 0.2)
    queued, started, completed = job_timeline("job.queued", "job.started", "job.completed")
    hub, history = Hub(), FakeHistory()
    history.record(queued)
    stream = job_stream(queued.job_id, 0, hub, history)  # type: ignore[arg-type]
    async with asyncio.timeout(5):
        first = await take(stream, 1)
        history.record(started, completed)  # projected; the hub never hears of them
        rest = await collect(stream)

    assert [e.id for e in [*first, *rest]] == ["1", "2", "3"]


async def test_a_user_stream_reads_the_database_again_after_a_silence(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(streams, "RESYNC_S", 0.2)
    user = random_user_id()
    events = job_timeline("job.queued", "job.started", user_id=user)
    hub, history = Hub(), FakeHistory()
    stream = user_stream(user, 0, hub, history)  # type: ignore[arg-type]
    async with asyncio.timeout(5):
        taking = asyncio.create_task(take(stream, 2))
        await asyncio.sleep(0.05)  # the stream's first read found nothing
        history.record(*events)  # projected; the hub never hears of them
        sent = await taking
        await stream.aclose()

    assert [e.event for e in sent] == ["job.queued", "job.started"]


async def test_waiting_for_an_event_the_database_never_records_gives_up() -> None:
    """An event the tail read from a log the broker then lost is never projected."""
    lost = job_timeline("job.started")[0]
    history = FakeHistory()
    history.record_later(lost, lag=None)
    started = time.monotonic()
    verdicts = await when_recorded([lost], history, warn_every_s=10, give_up_s=0.3)  # type: ignore[arg-type]

    assert verdicts == {}
    assert 0.25 <= time.monotonic() - started < 2
