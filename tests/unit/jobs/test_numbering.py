"""Numbering: the gateway numbers on from the job's row, a worker from its request; a worker's
report ids derive from its run, the gateway's from the attempt."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from darkroom.contracts.envelope import make_event_id
from darkroom.contracts.events import JobProgress, JobStarted
from darkroom.contracts.jobtypes import JobType
from darkroom.jobs.numbering import EventNumbering
from tests.factories import image_request, job_record

NOW = datetime(2026, 11, 23, tzinfo=UTC)


def test_the_gateway_numbers_on_from_the_jobs_last_event() -> None:
    record = job_record("running", last_seq=7, parent_id=uuid.uuid4())
    numbering = EventNumbering.after(record, 2, NOW)

    first = numbering.make(JobProgress, percent=10, message="")
    second = numbering.make(JobProgress, percent=20, message="")

    assert [first.seq, second.seq] == [8, 9]
    assert (first.attempt, first.occurred_at, first.parent_id) == (2, NOW, record.parent_id)
    assert first.request_id is None
    assert first.event_id == make_event_id(record.job_id, 2, 8, "job.progress")


def test_a_workers_run_numbers_from_its_request_and_names_it_in_every_report() -> None:
    request = image_request(attempt=3, first_seq=12)
    numbering = EventNumbering.for_run(request, JobType.IMAGE)

    started = numbering.make(JobStarted, worker_id="w")

    assert (started.seq, started.attempt, started.request_id) == (12, 3, request.request_id)
    assert started.event_id == make_event_id(
        request.job_id, 3, 12, "job.started", request.request_id
    )
    assert numbering.next_seq == 13


def test_the_same_step_numbered_twice_gets_the_same_id() -> None:
    request = image_request()

    def started_id() -> uuid.UUID:
        return (
            EventNumbering.for_run(request, JobType.IMAGE).make(JobStarted, worker_id="w").event_id
        )

    assert started_id() == started_id()
