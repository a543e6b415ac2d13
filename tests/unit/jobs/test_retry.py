"""What retrying writes: only a failed job goes back to the queue, as a new series and a new run;
a retry in a family reopens the batch or chain it had ended."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from darkroom.contracts.events import JobRequeued
from darkroom.contracts.jobtypes import Priority
from darkroom.contracts.requests import ImageJobRequested
from darkroom.contracts.topics import Topics
from darkroom.jobs.plans.retry import plan_retry, plan_retry_in_family
from darkroom.jobs.records import JobRecord, Plan
from tests.factories import OCCURRED_AT, job_record

TOPICS = Topics()
NOW = datetime(2026, 11, 23, tzinfo=UTC)
ERROR = {"code": "provider_error", "message": "the provider broke", "retryable": True}


def job(
    status: str, *, attempts: int = 3, last_seq: int = 9, priority: str = "normal"
) -> JobRecord:
    return job_record(
        status, attempts=attempts, last_seq=last_seq, priority=priority, error=ERROR, progress=40
    )


def family(
    parent_type: str, parent_status: str, *statuses: str
) -> tuple[JobRecord, list[JobRecord]]:
    parent = job_record(parent_status, type=parent_type, attempts=1, last_seq=8)
    children = [
        job_record(
            status,
            parent_id=parent.job_id,
            error=ERROR if status == "failed" else None,
            created_at=OCCURRED_AT + timedelta(microseconds=index),
        )
        for index, status in enumerate(statuses, start=1)
    ]
    return parent, children


def retried_ids(plan: Plan) -> list[uuid.UUID]:
    return [c.event.job_id for c in plan.changes if c.event.request_id is not None]


def test_a_failed_job_is_queued_again_as_a_new_series_numbered_on_from_its_last_event() -> None:
    record = job("failed", attempts=3, last_seq=9)

    plan = plan_retry(record, "u-1", TOPICS, NOW)

    [change], [announced, sent] = plan.changes, plan.messages
    event, columns = change.event, change.update.columns()
    assert isinstance(event, JobRequeued)
    assert (event.attempt, event.seq, event.requested_by) == (4, 10, "u-1")
    assert event.previous_error == "the provider broke"
    assert columns["status"] == "queued" and columns["series_start"] == 4
    assert columns["error"] is None and columns["finished_at"] is None
    assert columns["message"] == "queued again by u-1"
    assert announced.topic == TOPICS.events
    request = ImageJobRequested.model_validate_json(sent.payload)
    assert sent.topic == TOPICS.image.requested
    assert (request.attempt, request.series_start, request.first_seq) == (4, 4, 11)
    assert request.job_id == record.job_id and sent.key == str(record.job_id)


def test_the_retry_announces_its_new_run_which_becomes_the_jobs() -> None:
    record = job("failed", last_seq=9)

    plan = plan_retry(record, "u-1", TOPICS, NOW)

    [change], [_, sent] = plan.changes, plan.messages
    run = uuid.uuid5(record.job_id, "retry/10")
    assert change.event.request_id == run
    assert ImageJobRequested.model_validate_json(sent.payload).request_id == run
    assert change.update.columns()["run_id"] == str(run)


def test_a_retried_job_keeps_its_priority_topic() -> None:
    [_, sent] = plan_retry(job("failed", priority="high"), "admin", TOPICS, NOW).messages

    assert sent.topic == TOPICS.image.requested_high
    assert ImageJobRequested.model_validate_json(sent.payload).priority is Priority.HIGH


@pytest.mark.parametrize("status", ["queued", "running", "retrying", "completed", "cancelled"])
def test_a_job_that_is_not_failed_is_left_alone(status: str) -> None:
    assert plan_retry(job(status), "u-1", TOPICS, NOW) == Plan()


def test_a_failed_batch_runs_its_failed_children_again_and_is_reopened() -> None:
    parent, kids = family("batch", "completed_with_errors", "completed", "failed", "failed")

    plan = plan_retry_in_family(parent, kids, parent.job_id, "u-1", TOPICS, NOW)

    assert retried_ids(plan) == [kids[1].job_id, kids[2].job_id]
    reopened = plan.changes[-1]
    assert isinstance(reopened.event, JobRequeued) and reopened.event.job_id == parent.job_id
    assert reopened.event.seq == parent.last_seq + 1
    assert reopened.update.columns()["status"] == "queued"
    assert reopened.update.message == "queued again by u-1: 2 failed children"
    requests = [m for m in plan.messages if m.topic == TOPICS.image.requested]
    assert [m.key for m in requests] == [str(kids[1].job_id), str(kids[2].job_id)]


def test_a_failed_chain_runs_only_its_failed_step_again() -> None:
    parent, kids = family("chain", "failed", "completed", "failed")

    plan = plan_retry_in_family(parent, kids, parent.job_id, "u-1", TOPICS, NOW)

    assert retried_ids(plan) == [kids[1].job_id]
    assert plan.changes[-1].update.message == "queued again by u-1: 1 failed child"


def test_retrying_one_failed_child_reopens_the_batch_it_had_ended() -> None:
    parent, kids = family("batch", "failed", "failed", "failed")

    plan = plan_retry_in_family(parent, kids, kids[0].job_id, "u-1", TOPICS, NOW)

    assert [c.event.job_id for c in plan.changes] == [kids[0].job_id, parent.job_id]


def test_retrying_a_child_of_a_family_still_running_leaves_the_parent_alone() -> None:
    parent, kids = family("batch", "running", "failed", "running")

    plan = plan_retry_in_family(parent, kids, kids[0].job_id, "u-1", TOPICS, NOW)

    assert [c.event.job_id for c in plan.changes] == [kids[0].job_id]


@pytest.mark.parametrize("status", ["running", "completed", "cancelled"])
def test_a_family_that_did_not_fail_is_left_alone(status: str) -> None:
    parent, kids = family("batch", status, "completed", "failed")

    assert plan_retry_in_family(parent, kids, parent.job_id, "u-1", TOPICS, NOW) == Plan()


def test_retrying_a_child_that_did_not_fail_or_is_not_there_changes_nothing() -> None:
    parent, kids = family("batch", "completed_with_errors", "completed", "failed")

    assert plan_retry_in_family(parent, kids, kids[0].job_id, "u-1", TOPICS, NOW) == Plan()
    assert plan_retry_in_family(parent, kids, uuid.uuid4(), "u-1", TOPICS, NOW) == Plan()
