"""What cancelling a job or a family writes, decided from its state: a job that is not running
at once, a running one asked to stop, a family's parent last."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from darkroom.contracts.control import CancelRequested
from darkroom.contracts.envelope import make_event_id
from darkroom.contracts.events import JobCancelled, parse_event
from darkroom.contracts.topics import Topics
from darkroom.jobs.plans.cancel import plan_cancel, plan_cancel_family
from darkroom.jobs.records import JobRecord, Plan
from tests.factories import batch_family, job_record

TOPICS = Topics.with_suffix("unit")
NOW = datetime(2026, 11, 23, tzinfo=UTC)


def job(status: str, last_seq: int = 3, attempts: int = 1) -> JobRecord:
    return job_record(status, last_seq=last_seq, attempts=attempts)


@pytest.mark.parametrize("status", ["queued", "retrying"])
def test_a_job_that_is_not_running_is_cancelled_at_once_and_workers_are_told_to_skip_it(
    status: str,
) -> None:
    record = job(status, last_seq=7, attempts=2)

    plan = plan_cancel(record, "u-1", TOPICS, NOW)

    [change] = plan.changes
    event, columns = change.event, change.update.columns()
    assert isinstance(event, JobCancelled)
    assert (event.seq, event.attempt, event.while_running) == (8, 2, False)
    assert (event.cancelled_by, event.occurred_at) == ("u-1", NOW)
    assert (columns["status"], columns["message"]) == ("cancelled", "cancelled by u-1")
    assert [m.topic for m in plan.messages] == [TOPICS.events, TOPICS.control]
    control = CancelRequested.model_validate_json(plan.messages[1].payload)
    assert (control.recorded, control.requested_by) == (True, "u-1")


def test_a_job_that_never_started_is_cancelled_as_its_first_attempt() -> None:
    [change] = plan_cancel(job("queued", attempts=0), "u-1", TOPICS, NOW).changes

    assert change.event.attempt == 1


def test_a_running_job_is_only_asked_to_stop() -> None:
    plan = plan_cancel(job("running"), "u-1", TOPICS, NOW)

    assert plan.changes == []
    [control] = plan.messages
    assert control.topic == TOPICS.control
    assert CancelRequested.model_validate_json(control.payload).recorded is False


@pytest.mark.parametrize("status", ["completed", "completed_with_errors", "failed", "cancelled"])
def test_cancelling_an_ended_job_changes_nothing(status: str) -> None:
    assert plan_cancel(job(status), "u-1", TOPICS, NOW) == Plan()


def test_waiting_children_are_cancelled_and_running_ones_only_asked_to_stop() -> None:
    parent, (queued, retrying, running, done) = batch_family(
        "running", "queued", "retrying", "running", "completed"
    )

    plan = plan_cancel_family(parent, [queued, retrying, running, done], "u-1", TOPICS, NOW)

    cancelled = [change.event for change in plan.changes]
    assert [e.job_id for e in cancelled] == [queued.job_id, retrying.job_id, parent.job_id]
    assert all(isinstance(e, JobCancelled) for e in cancelled)
    assert [e.parent_id for e in cancelled[:2]] == [parent.job_id] * 2
    assert all(change.update.columns()["status"] == "cancelled" for change in plan.changes)
    controls = [m for m in plan.messages if m.topic == TOPICS.control]
    assert [m.key for m in controls] == [str(c.job_id) for c in (queued, retrying, running)]
    stop = CancelRequested.model_validate_json(controls[2].payload)
    assert (stop.job_id, stop.recorded) == (running.job_id, False)
    assert str(done.job_id) not in {m.key for m in plan.messages}


def test_the_parents_cancellation_is_the_last_message() -> None:
    parent, children = batch_family("running", "queued", "running", "queued")

    messages = plan_cancel_family(parent, children, "u-1", TOPICS, NOW).messages

    last = messages[-1]
    assert (last.topic, last.key) == (TOPICS.events, str(parent.job_id))
    event = parse_event(last.payload)
    assert isinstance(event, JobCancelled)
    assert (event.seq, event.attempt, event.cancelled_by) == (7, 1, "u-1")
    assert event.event_id == make_event_id(parent.job_id, 1, 7, "job.cancelled")
    assert [m.key for m in messages].count(str(parent.job_id)) == 1


@pytest.mark.parametrize(
    ("statuses", "while_running"),
    [(("queued", "completed"), False), (("queued", "running"), True)],
)
def test_the_parent_was_cancelled_while_running_only_if_a_child_still_runs(
    statuses: tuple[str, ...], while_running: bool
) -> None:
    parent, children = batch_family("running", *statuses)

    plan = plan_cancel_family(parent, children, "u-1", TOPICS, NOW)

    parent_event = plan.changes[-1].event
    assert isinstance(parent_event, JobCancelled)
    assert parent_event.while_running is while_running


@pytest.mark.parametrize("status", ["completed", "completed_with_errors", "failed", "cancelled"])
def test_cancelling_an_ended_family_changes_nothing(status: str) -> None:
    parent, children = batch_family(status, "queued", "running")

    assert plan_cancel_family(parent, children, "u-1", TOPICS, NOW) == Plan()
