"""What retrying a job writes: only a failed job goes back to the queue, as a new series."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from darkroom.contracts.events import JobRequeued
from darkroom.contracts.jobtypes import Priority
from darkroom.contracts.requests import ImageJobRequested
from darkroom.contracts.topics import Topics
from darkroom.gateway.errors import JobNotRetryable
from darkroom.gateway.retry import plan_retry
from darkroom.runtime.db import JobRecord
from tests.factories import job_record

TOPICS = Topics()
NOW = datetime(2026, 11, 23, tzinfo=UTC)


def job(
    status: str, *, attempts: int = 3, last_seq: int = 9, priority: str = "normal"
) -> JobRecord:
    error = {"code": "provider_error", "message": "the provider broke", "retryable": True}
    return job_record(
        status, attempts=attempts, last_seq=last_seq, priority=priority, error=error, progress=40
    )


def test_a_failed_job_is_queued_again_as_a_new_series_numbered_on_from_its_last_event() -> None:
    record = job("failed", attempts=3, last_seq=9)

    [(event, columns)], [announced, sent] = plan_retry(record, "u-1", TOPICS)

    assert isinstance(event, JobRequeued)
    assert (event.attempt, event.seq, event.requested_by) == (4, 10, "u-1")
    assert event.previous_error == "the provider broke"
    assert columns["status"] == "queued" and columns["series_start"] == 4
    assert columns["error"] is None and columns["finished_at"] is None
    assert announced.topic == TOPICS.events
    request = ImageJobRequested.model_validate_json(sent.payload)
    assert sent.topic == TOPICS.image.requested
    assert (request.attempt, request.series_start, request.first_seq) == (4, 4, 11)
    assert request.job_id == record.job_id and sent.key == str(record.job_id)


def test_a_retried_job_keeps_its_priority_topic() -> None:
    _, [_, sent] = plan_retry(job("failed", priority="high"), "admin", TOPICS)

    assert sent.topic == TOPICS.image.requested_high
    assert ImageJobRequested.model_validate_json(sent.payload).priority is Priority.HIGH


@pytest.mark.parametrize("status", ["queued", "running", "retrying", "completed", "cancelled"])
def test_a_job_that_is_not_failed_is_left_alone(status: str) -> None:
    assert plan_retry(job(status), "u-1", TOPICS) == ([], [])


@pytest.mark.parametrize(
    ("status", "reason"),
    [
        ("completed", "its results are stored"),
        ("cancelled", "stopped on purpose"),
        ("running", "has not ended yet"),
    ],
)
def test_the_refusal_says_why(status: str, reason: str) -> None:
    assert reason in str(JobNotRetryable(status))
