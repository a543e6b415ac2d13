"""What sweeping a quiet job writes, decided from its row: a new run that fences off the old one,
or `stalled` once the attempts are spent; nothing for a job that waits in a backlog."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from darkroom.contracts.control import RunSuperseded
from darkroom.contracts.errors import ErrorCode
from darkroom.contracts.events import JobFailed, JobQueued
from darkroom.contracts.requests import ImageJobRequested
from darkroom.contracts.topics import Topics
from darkroom.jobs.plans.sweep import SweepRules, plan_sweep
from darkroom.jobs.records import JobRecord, Plan
from tests.factories import job_record

TOPICS = Topics()
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
RULES = SweepRules(queued_after_s=600, stalled_after_s=120, max_attempts=3)
OLD_RUN = uuid.uuid4()


def quiet(status: str, seconds: float, **changes: object) -> JobRecord:
    changes.setdefault("last_seq", 6)
    return job_record(status, updated_at=NOW - timedelta(seconds=seconds), **changes)


def sweep(record: JobRecord, waiting: bool = False) -> Plan:
    return plan_sweep(record, RULES, TOPICS, NOW, waiting)


def test_a_running_job_quiet_past_the_deadline_gets_a_new_run() -> None:
    record = quiet("running", 130)

    plan = sweep(record)

    [change], [announced, request] = plan.changes, plan.messages
    queued, columns = change.event, change.update.columns()
    assert isinstance(queued, JobQueued)
    assert (queued.seq, queued.attempt, columns["status"]) == (7, 2, "queued")
    assert columns["message"] == "queued again: no news for 130 s"
    assert announced.topic == TOPICS.events
    following = ImageJobRequested.model_validate_json(request.payload)
    assert (following.attempt, following.first_seq, request.topic) == (2, 8, TOPICS.image.requested)


def test_the_new_run_is_announced_by_job_queued_and_becomes_the_jobs_run() -> None:
    record = quiet("running", 130, last_seq=6)

    plan = sweep(record)

    [change], [_, request] = plan.changes, plan.messages
    run = uuid.uuid5(record.job_id, "sweep/7")
    assert change.event.request_id == run
    assert ImageJobRequested.model_validate_json(request.payload).request_id == run
    assert change.update.columns()["run_id"] == str(run)


def test_workers_are_told_that_the_old_run_was_superseded() -> None:
    record = quiet("running", 130, run_id=OLD_RUN)

    plan = sweep(record)

    control = plan.messages[-1]
    assert (control.topic, control.key) == (TOPICS.control, str(record.job_id))
    superseded = RunSuperseded.model_validate_json(control.payload)
    assert superseded.superseded_request_id == OLD_RUN
    assert superseded.request_id == plan.changes[0].event.request_id
    assert superseded.superseded_at == NOW


def test_a_queued_job_whose_request_is_lost_gets_a_new_run_too() -> None:
    plan = sweep(quiet("queued", 601, attempts=1))

    [change] = plan.changes
    assert isinstance(change.event, JobQueued)
    assert change.event.attempt == 2


def test_a_running_job_within_its_deadline_or_a_queued_one_in_a_backlog_is_left_alone() -> None:
    assert sweep(quiet("running", 60)) == Plan()
    assert sweep(quiet("queued", 300)) == Plan()


@pytest.mark.parametrize("status", ["queued", "retrying"])
def test_a_waiting_job_whose_request_still_waits_in_a_topic_is_left_alone(status: str) -> None:
    assert sweep(quiet(status, 10_000), waiting=True) == Plan()


def test_a_running_job_is_swept_even_if_its_request_is_still_in_a_topic() -> None:
    assert sweep(quiet("running", 130), waiting=True)


@pytest.mark.parametrize("status", ["completed", "failed", "cancelled"])
def test_an_ended_job_is_never_swept(status: str) -> None:
    assert sweep(quiet(status, 10_000)) == Plan()


def test_a_batch_or_chain_is_never_swept() -> None:
    assert sweep(quiet("queued", 10_000, type="batch")) == Plan()
    assert sweep(quiet("running", 10_000, type="chain")) == Plan()


def test_a_job_stalled_past_the_last_attempt_is_failed_as_stalled() -> None:
    plan = sweep(quiet("running", 130, attempts=3))

    [change], [message] = plan.changes, plan.messages
    failed, columns = change.event, change.update.columns()
    assert isinstance(failed, JobFailed)
    assert (failed.code, failed.retryable, columns["status"]) == (ErrorCode.STALLED, True, "failed")
    assert message.topic == TOPICS.events


def test_the_attempt_budget_counts_from_the_series_a_retry_started() -> None:
    assert isinstance(
        sweep(quiet("running", 130, attempts=5, series_start=4)).changes[0].event, JobQueued
    )
    assert isinstance(
        sweep(quiet("running", 130, attempts=6, series_start=4)).changes[0].event, JobFailed
    )


def test_a_job_failed_as_stalled_tells_the_workers_to_stop_its_run() -> None:
    plan = sweep(quiet("running", 130, attempts=3, run_id=OLD_RUN))

    [_, control] = plan.messages
    assert control.topic == TOPICS.control
    assert RunSuperseded.model_validate_json(control.payload).superseded_request_id == OLD_RUN
