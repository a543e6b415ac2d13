"""A new job: its row, its `job.queued` at seq 1 and, for a type a worker runs, its first
request from seq 2, which is the job's run."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from darkroom.contracts.envelope import TraceContext, make_event_id
from darkroom.contracts.events import JobQueued, parse_event
from darkroom.contracts.jobtypes import JobType, Priority
from darkroom.contracts.params import BatchParams
from darkroom.contracts.requests import ImageJobRequested
from darkroom.contracts.topics import Topics
from darkroom.jobs.plans.submit import JobSpec, new_job
from tests.factories import image_params

TOPICS = Topics.with_suffix("unit")
NOW = datetime(2026, 11, 23, tzinfo=UTC)
TRACE = TraceContext(traceparent="00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")


def spec(job_type: JobType = JobType.IMAGE, **overrides: object) -> JobSpec:
    values: dict[str, object] = {
        "job_id": uuid.uuid4(),
        "user_id": "u-1",
        "job_type": job_type,
        "params": image_params(),
        "priority": Priority.NORMAL,
    }
    return JobSpec(**(values | overrides))  # type: ignore[arg-type]


def test_a_worker_job_is_queued_at_seq_1_and_requested_from_seq_2_as_its_run() -> None:
    plan = new_job(spec(trace=TRACE), TOPICS, NOW)

    [queued] = plan.events
    event, request = plan.messages
    assert isinstance(queued, JobQueued)
    assert (queued.seq, queued.attempt, queued.occurred_at) == (1, 1, NOW)
    assert queued.event_id == make_event_id(plan.job.job_id, 1, 1, "job.queued")
    assert parse_event(event.payload) == queued and event.topic == TOPICS.events
    sent = ImageJobRequested.model_validate_json(request.payload)
    assert (sent.attempt, sent.first_seq, sent.trace) == (1, 2, TRACE)
    assert sent.request_id == queued.request_id == plan.job.run_id
    assert (plan.job.last_seq, plan.job.created_at) == (1, NOW)


def test_each_new_job_gets_its_own_run() -> None:
    one, two = spec(), spec()

    assert new_job(one, TOPICS, NOW).job.run_id != new_job(two, TOPICS, NOW).job.run_id


def test_a_parent_is_queued_but_has_no_request_and_no_run() -> None:
    params = BatchParams(prompts=("a", "b"), template=image_params())

    plan = new_job(spec(JobType.BATCH, params=params), TOPICS, NOW)

    [queued] = plan.events
    assert [m.topic for m in plan.messages] == [TOPICS.events]
    assert queued.request_id is None and plan.job.run_id is None


def test_a_child_names_its_parent_in_its_row_its_event_and_its_request() -> None:
    parent_id = uuid.uuid4()

    plan = new_job(spec(parent_id=parent_id, priority=Priority.HIGH), TOPICS, NOW)

    [queued] = plan.events
    request = plan.messages[1]
    assert plan.job.parent_id == queued.parent_id == parent_id
    assert request.topic == TOPICS.image.requested_high
    assert ImageJobRequested.model_validate_json(request.payload).parent_id == parent_id
