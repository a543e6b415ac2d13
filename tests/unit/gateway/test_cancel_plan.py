"""What cancelling a job writes, decided from the job's state."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from darkroom.contracts.control import CancelRequested
from darkroom.contracts.events import JobCancelled
from darkroom.contracts.topics import Topics
from darkroom.gateway.cancel import answer, plan_cancel
from darkroom.runtime.auth import Principal
from darkroom.runtime.db import JobRecord
from tests.factories import job_record

TOPICS = Topics()
NOW = datetime(2026, 11, 23, tzinfo=UTC)
OWNER = Principal(user_id="u-1", scope="api")


def job(status: str, last_seq: int = 3, attempts: int = 1) -> JobRecord:
    return job_record(status, last_seq=last_seq, attempts=attempts)


@pytest.mark.parametrize("status", ["queued", "retrying"])
def test_a_job_that_is_not_running_is_cancelled_at_once_and_workers_are_told_to_skip_it(
    status: str,
) -> None:
    record = job(status, last_seq=7, attempts=2)

    changes, messages = plan_cancel(record, OWNER, TOPICS)

    [(event, columns)] = changes
    assert isinstance(event, JobCancelled)
    assert (event.seq, event.attempt, event.while_running) == (8, 2, False)
    assert columns["status"] == "cancelled"
    assert [m.topic for m in messages] == [TOPICS.events, TOPICS.control]
    control = CancelRequested.model_validate_json(messages[1].payload)
    assert control.recorded is True
    assert answer(record.job_id, record).outcome == "cancelled"


def test_a_running_job_is_only_asked_to_stop() -> None:
    record = job("running")

    changes, messages = plan_cancel(record, OWNER, TOPICS)

    assert changes == []
    [control] = messages
    assert control.topic == TOPICS.control
    assert CancelRequested.model_validate_json(control.payload).recorded is False
    assert answer(record.job_id, record).outcome == "stopping"


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        ("completed", "already_finished"),
        ("failed", "already_finished"),
        ("cancelled", "already_cancelled"),
    ],
)
def test_cancelling_an_ended_job_changes_nothing_and_says_so(status: str, outcome: str) -> None:
    record = job(status)
    assert plan_cancel(record, OWNER, TOPICS) == ([], [])
    result = answer(record.job_id, record)
    assert (result.outcome, result.status.value) == (outcome, status)
