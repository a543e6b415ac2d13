"""The worker's event emitter: pipelined, and a job's outcome answers for its own events only."""

import asyncio
import json
import uuid
from typing import Any

import pytest

from darkroom.contracts.events import JobEvent
from darkroom.runtime.kafka import EmitFailed, event_emitter
from tests.factories import job_timeline


class FakePublisher:
    """Hands back one future per message, by event id; the test settles them."""

    def __init__(self) -> None:
        self.acks: dict[uuid.UUID, asyncio.Future[None]] = {}

    async def send(self, topic: str, payload: bytes, **_: Any) -> asyncio.Future[None]:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.acks[uuid.UUID(json.loads(payload)["event_id"])] = future
        return future

    def settle(self, event: JobEvent, error: Exception | None = None) -> None:
        future = self.acks[event.event_id]
        future.set_exception(error) if error else future.set_result(None)


async def started(emit: Any, event: JobEvent) -> asyncio.Future[None]:
    """Emit in the background and let it reach its wait."""
    task = asyncio.ensure_future(emit(event))
    await asyncio.sleep(0)
    return task


async def test_progress_returns_at_once_and_the_outcome_waits_for_every_ack_of_its_job() -> None:
    publisher = FakePublisher()
    events = job_timeline("job.started", "job.progress", "job.completed")
    emit = event_emitter(publisher, "events")  # type: ignore[arg-type]
    await emit(events[0])
    await emit(events[1])  # returned without any acknowledgement
    outcome = await started(emit, events[2])
    publisher.settle(events[0])
    publisher.settle(events[1])
    await asyncio.sleep(0)
    assert not outcome.done()  # its own acknowledgement is still missing
    publisher.settle(events[2])
    await outcome


async def test_a_failed_event_of_another_job_does_not_fail_this_jobs_outcome() -> None:
    publisher = FakePublisher()
    emit = event_emitter(publisher, "events")  # type: ignore[arg-type]
    a = job_timeline("job.started", "job.completed")
    b = job_timeline("job.started", "job.completed")
    await emit(b[0])
    await emit(a[0])
    outcome_a = await started(emit, a[1])
    publisher.settle(b[0], RuntimeError("broker away"))
    publisher.settle(a[0])
    publisher.settle(a[1])
    await outcome_a  # a's outcome does not answer for b's event
    outcome_b = await started(emit, b[1])
    publisher.settle(b[1])
    with pytest.raises(EmitFailed):
        await outcome_b  # b's outcome does
