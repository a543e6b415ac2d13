"""A run the sweeper superseded: stopped if it runs, skipped if its request comes later, and
never reporting."""

from __future__ import annotations

import asyncio
import uuid

from darkroom.contracts.assets import JobResult
from darkroom.contracts.control import RunSuperseded, control_adapter
from darkroom.contracts.envelope import utcnow
from darkroom.contracts.requests import ImageJobRequested
from darkroom.runtime.job_events import AttemptEvents
from darkroom.runtime.worker import CancelRegistry, run_attempt
from tests.factories import image_request
from tests.unit.runtime.worker_fakes import ORIGIN, FakeBroker


def superseding(request: ImageJobRequested) -> RunSuperseded:
    return RunSuperseded(
        job_id=request.job_id,
        superseded_request_id=request.request_id,
        request_id=uuid.uuid4(),
        superseded_at=utcnow(),
    )


async def succeeding(request: ImageJobRequested, events: AttemptEvents) -> JobResult:
    return JobResult(assets=[])


async def test_a_run_superseded_while_it_runs_stops_and_reports_nothing_more() -> None:
    broker, request = FakeBroker(), image_request()
    ports = broker.ports()
    reached_step = asyncio.Event()

    async def long_work(request: ImageJobRequested, events: AttemptEvents) -> JobResult:
        reached_step.set()
        await asyncio.sleep(60)
        raise AssertionError("not stopped")

    attempt = asyncio.create_task(run_attempt(request, ORIGIN, ports, long_work))
    await reached_step.wait()
    ports.cancels.add(superseding(request))
    await asyncio.wait_for(attempt, 5)

    assert broker.types == ["job.started"]
    assert broker.sent == []  # neither retried nor dead-lettered


async def test_the_request_of_a_superseded_run_is_skipped_silently() -> None:
    broker, request = FakeBroker(), image_request()
    ports = broker.ports()
    ports.cancels.add(superseding(request))

    await run_attempt(request, ORIGIN, ports, succeeding)

    assert broker.events == [] and broker.sent == []


async def test_superseding_another_run_of_the_job_leaves_this_one_alone() -> None:
    broker, request = FakeBroker(), image_request()
    ports = broker.ports()
    other = request.model_copy(update={"request_id": uuid.uuid4()})
    ports.cancels.add(superseding(other))

    await run_attempt(request, ORIGIN, ports, succeeding)

    assert broker.types == ["job.started", "job.completed"]


def test_the_registry_takes_both_kinds_of_control_message_as_read_from_the_topic() -> None:
    registry, request = CancelRegistry(), image_request()
    superseded = superseding(request)

    registry.add(control_adapter.validate_json(superseded.model_dump_json()))

    assert registry.superseded(request.request_id) == superseded
    assert registry.get(request.job_id) is None
    assert registry.watch(request.job_id, request.request_id).is_set()
    assert not registry.watch(request.job_id, uuid.uuid4()).is_set()


async def test_two_runs_of_one_job_in_one_process_are_each_woken_by_their_own_messages() -> None:
    registry = CancelRegistry()
    old, new = image_request(), image_request()
    new = new.model_copy(update={"job_id": old.job_id})
    old_woken = registry.watch(old.job_id, old.request_id)
    new_woken = registry.watch(new.job_id, new.request_id)

    registry.add(superseding(old))
    assert old_woken.is_set() and not new_woken.is_set()
    registry.unwatch(old.job_id, old.request_id)  # the old run ends: the new one is still watched

    registry.add(
        control_adapter.validate_python(
            {
                "type": "job.cancel-requested",
                "job_id": str(new.job_id),
                "user_id": new.user_id,
                "requested_by": new.user_id,
                "requested_at": utcnow().isoformat(),
                "recorded": False,
            }
        )
    )
    assert new_woken.is_set()
