"""Heartbeats: never more than JOB_HEARTBEAT_S between two events of a running attempt."""

from __future__ import annotations

import asyncio
import itertools
import time

from darkroom.contracts.assets import JobResult
from darkroom.contracts.events import JobEvent
from darkroom.contracts.requests import ImageJobRequested
from darkroom.runtime.job_events import AttemptEvents
from darkroom.runtime.worker import RetryPolicy, run_attempt
from tests.factories import image_request
from tests.unit.runtime.worker_fakes import ORIGIN, FakeBroker


async def test_a_step_that_outlasts_the_heartbeat_after_a_progress_report_is_covered_in_time() -> (
    None
):
    interval = 0.3
    broker = FakeBroker()
    times: list[float] = []
    emit = broker.emit

    async def timed_emit(event: JobEvent) -> None:
        times.append(time.monotonic())
        await emit(event)

    broker.emit = timed_emit  # type: ignore[method-assign]

    async def step(request: ImageJobRequested, events: AttemptEvents) -> JobResult:
        await asyncio.sleep(interval / 3)  # a report a third into the first interval...
        await broker.emit(events.progress(25, "step 1/4"))
        await asyncio.sleep(interval * 3)  # ...then a long quiet step
        return JobResult(assets=[])

    await run_attempt(
        image_request(), ORIGIN, broker.ports(RetryPolicy(heartbeat_s=interval)), step
    )

    gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
    assert max(gaps) < interval + 0.1, gaps  # the old loop waited up to two intervals
    assert broker.types.count("job.progress") >= 3
