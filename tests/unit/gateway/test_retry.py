"""The retry use case: decided in the job's (or its family's) transaction; the answer is the job
as it was and how many jobs run again."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from darkroom.contracts.events import JobRequeued
from darkroom.contracts.topics import Topics
from darkroom.gateway.errors import JobNotRetryable
from darkroom.gateway.retry import Retried, retry_job
from darkroom.jobs.records import JobRecord, Plan
from tests.factories import OCCURRED_AT, job_record
from tests.unit.gateway.fakes import FakeJobStore

TOPICS = Topics.with_suffix("unit")
ERROR = {"code": "provider_error", "message": "the provider broke", "retryable": True}


def batch(status: str, *statuses: str) -> list[JobRecord]:
    parent = job_record(status, type="batch", attempts=1, last_seq=8)
    children = [
        job_record(
            child,
            parent_id=parent.job_id,
            error=ERROR if child == "failed" else None,
            created_at=OCCURRED_AT + timedelta(microseconds=index),
        )
        for index, child in enumerate(statuses, start=1)
    ]
    return [parent, *children]


async def test_a_failed_job_runs_again_and_the_answer_is_the_job_as_it_was() -> None:
    record = job_record("failed", error=ERROR)
    store = FakeJobStore(jobs=[record])

    retried = await retry_job(store, record.job_id, "u-1", TOPICS)  # type: ignore[arg-type]

    assert retried == Retried(record, runs=1)
    [plan] = store.planned
    assert [type(c.event) for c in plan.changes] == [JobRequeued]


@pytest.mark.parametrize("status", ["queued", "running", "completed", "cancelled"])
async def test_a_job_that_is_not_failed_is_answered_as_it_is_with_nothing_run(status: str) -> None:
    record = job_record(status)
    store = FakeJobStore(jobs=[record])

    retried = await retry_job(store, record.job_id, "u-1", TOPICS)  # type: ignore[arg-type]

    assert retried == Retried(record, runs=0)
    assert store.planned == [Plan()]


async def test_an_unknown_job_is_none() -> None:
    store = FakeJobStore()

    assert await retry_job(store, uuid.uuid4(), "u-1", TOPICS) is None  # type: ignore[arg-type]


async def test_a_child_is_retried_in_its_familys_transaction_which_reopens_the_parent() -> None:
    parent, done, failed = batch("completed_with_errors", "completed", "failed")
    store = FakeJobStore(jobs=[parent, done, failed])

    retried = await retry_job(store, failed.job_id, "u-1", TOPICS)  # type: ignore[arg-type]

    assert retried == Retried(failed, runs=1)
    [plan] = store.planned
    assert [c.event.job_id for c in plan.changes] == [failed.job_id, parent.job_id]


async def test_a_failed_batch_counts_every_child_that_runs_again() -> None:
    parent, *children = batch("failed", "failed", "failed", "cancelled")
    store = FakeJobStore(jobs=[parent, *children])

    retried = await retry_job(store, parent.job_id, "u-1", TOPICS)  # type: ignore[arg-type]

    assert retried == Retried(parent, runs=2)


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
