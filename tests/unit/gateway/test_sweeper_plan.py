"""What the sweeper writes for a stalled job, decided from its row."""

from __future__ import annotations

from datetime import timedelta

from darkroom.contracts.envelope import utcnow
from darkroom.contracts.errors import ErrorCode
from darkroom.contracts.events import JobFailed, JobQueued
from darkroom.contracts.requests import ImageJobRequested
from darkroom.contracts.topics import Topics
from darkroom.gateway.settings import SweeperSettings
from darkroom.gateway.sweeper import plan_requeue
from tests.factories import job_record

TOPICS = Topics()
SETTINGS = SweeperSettings(
    sweeper_queued_after_s=600, sweeper_stalled_after_s=120, sweeper_max_attempts=3
)


def quiet(status: str, seconds: float, **changes: object):  # type: ignore[no-untyped-def]
    changes.setdefault("last_seq", 6)
    return job_record(status, updated_at=utcnow() - timedelta(seconds=seconds), **changes)


def test_a_running_job_quiet_past_the_deadline_gets_a_new_attempt() -> None:
    [(queued, columns)], [_, request] = plan_requeue(quiet("running", 130), TOPICS, SETTINGS)
    assert isinstance(queued, JobQueued)
    assert (queued.seq, queued.attempt, columns["status"]) == (7, 2, "queued")
    following = ImageJobRequested.model_validate_json(request.payload)
    assert (following.attempt, following.first_seq, request.topic) == (2, 8, TOPICS.image.requested)


def test_a_queued_job_is_requeued_as_the_same_attempt() -> None:
    [(queued, _)], _ = plan_requeue(quiet("queued", 601, attempts=0), TOPICS, SETTINGS)
    assert queued.attempt == 1


def test_a_running_job_within_its_deadline_or_a_queued_one_in_a_backlog_is_left_alone() -> None:
    assert plan_requeue(quiet("running", 60), TOPICS, SETTINGS) == ([], [])
    assert plan_requeue(quiet("queued", 300), TOPICS, SETTINGS) == ([], [])


def test_an_ended_job_is_never_swept() -> None:
    assert plan_requeue(quiet("completed", 10_000), TOPICS, SETTINGS) == ([], [])


def test_a_job_stalled_past_the_last_attempt_is_failed_as_stalled() -> None:
    [(failed, columns)], [message] = plan_requeue(
        quiet("running", 130, attempts=3), TOPICS, SETTINGS
    )
    assert isinstance(failed, JobFailed)
    assert (failed.code, failed.retryable, columns["status"]) == (ErrorCode.STALLED, True, "failed")
    assert message.topic == TOPICS.events
