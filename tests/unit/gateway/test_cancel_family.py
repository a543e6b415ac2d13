"""Cancelling a batch or chain: waiting children at once, running ones asked to stop, parent last."""

from __future__ import annotations

from datetime import timedelta

import pytest

from darkroom.contracts.control import CancelRequested
from darkroom.contracts.envelope import make_event_id
from darkroom.contracts.events import JobCancelled, parse_event
from darkroom.contracts.topics import Topics
from darkroom.gateway.cancel import answer_family, plan_cancel_family
from darkroom.runtime.auth import Principal
from darkroom.runtime.db import JobRecord
from tests.factories import OCCURRED_AT, job_record

TOPICS = Topics.with_suffix("unit")
OWNER = Principal(user_id="u-1", scope="api")


def family(parent_status: str, *statuses: str) -> tuple[JobRecord, list[JobRecord]]:
    parent = job_record(parent_status, type="batch", attempts=1, last_seq=6)
    children = [
        job_record(
            status,
            parent_id=parent.job_id,
            attempts=0 if status == "queued" else 1,
            created_at=OCCURRED_AT + timedelta(microseconds=index),
        )
        for index, status in enumerate(statuses, start=1)
    ]
    return parent, children


def test_waiting_children_are_cancelled_and_running_ones_only_asked_to_stop() -> None:
    parent, (queued, retrying, running, done) = family(
        "running", "queued", "retrying", "running", "completed"
    )

    changes, messages = plan_cancel_family(parent, [queued, retrying, running, done], OWNER, TOPICS)

    cancelled = [event for event, _ in changes]
    assert [e.job_id for e in cancelled] == [queued.job_id, retrying.job_id, parent.job_id]
    assert all(isinstance(e, JobCancelled) for e in cancelled)
    assert [e.parent_id for e in cancelled[:2]] == [parent.job_id] * 2
    assert all(columns["status"] == "cancelled" for _, columns in changes)
    controls = [m for m in messages if m.topic == TOPICS.control]
    assert [m.key for m in controls] == [str(c.job_id) for c in (queued, retrying, running)]
    stop = CancelRequested.model_validate_json(controls[2].payload)
    assert (stop.job_id, stop.recorded) == (running.job_id, False)
    assert str(done.job_id) not in {m.key for m in messages}


def test_the_parents_cancellation_is_the_last_message() -> None:
    parent, children = family("running", "queued", "running", "queued")

    _, messages = plan_cancel_family(parent, children, OWNER, TOPICS)

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
    parent, children = family("running", *statuses)

    changes, _ = plan_cancel_family(parent, children, OWNER, TOPICS)

    parent_event = changes[-1][0]
    assert isinstance(parent_event, JobCancelled)
    assert parent_event.while_running is while_running


@pytest.mark.parametrize("status", ["completed", "completed_with_errors", "failed", "cancelled"])
def test_cancelling_an_ended_family_changes_nothing(status: str) -> None:
    parent, children = family(status, "queued", "running")

    assert plan_cancel_family(parent, children, OWNER, TOPICS) == ([], [])


def test_the_answer_counts_waiting_and_running_children() -> None:
    parent, children = family("running", "queued", "retrying", "running", "completed", "failed")

    answer = answer_family(parent.job_id, parent, children)

    assert (answer.outcome, answer.status.value) == ("cancelled", "cancelled")
    assert "batch was cancelled" in answer.detail
    assert "2 waiting children will not run" in answer.detail
    assert "1 running children stop at their next step" in answer.detail


@pytest.mark.parametrize(
    ("status", "outcome"), [("completed", "already_finished"), ("cancelled", "already_cancelled")]
)
def test_the_answer_for_an_ended_family_says_nothing_changed(status: str, outcome: str) -> None:
    parent, children = family(status, "completed")

    answer = answer_family(parent.job_id, parent, children)

    assert (answer.outcome, answer.status.value) == (outcome, status)
