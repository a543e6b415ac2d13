"""The projection: what each event writes into its job's row (`update_for`, which the projector
applies), and how a batch is applied."""

import json
from typing import Any

from darkroom.contracts.errors import ErrorCode
from darkroom.contracts.events import JobEvent, encode_event
from darkroom.gateway.projector import decode_batch, project
from darkroom.jobs.records import Change
from darkroom.jobs.transitions import update_for
from tests.factories import (
    OCCURRED_AT,
    asset_descriptor,
    job_completed,
    job_failed,
    job_progress,
    job_queued,
    job_started,
)
from tests.unit.gateway.fakes import FakeJobStore


def job_changes(event: JobEvent) -> dict[str, Any]:
    return update_for(event).columns()


def test_queued_sets_the_status_to_queued() -> None:
    assert job_changes(job_queued()) == {"status": "queued"}


def test_started_marks_the_job_running_and_counts_the_attempt() -> None:
    changes = job_changes(job_started(attempt=2))

    assert changes == {"status": "running", "attempts": 2, "started_at": OCCURRED_AT}


def test_progress_sets_percent_and_message() -> None:
    changes = job_changes(job_progress(percent=45, message="step 2/4"))

    assert changes == {"status": "running", "progress": 45, "message": "step 2/4"}


def test_progress_without_a_message_clears_the_message() -> None:
    assert job_changes(job_progress(message=""))["message"] is None


def test_completed_stores_the_result_and_clears_any_error() -> None:
    asset = asset_descriptor()
    changes = job_changes(job_completed(result={"assets": [asset]}))

    assert changes == {
        "status": "completed",
        "progress": 100,
        "result": {"assets": [asset.model_dump(mode="json")]},
        "error": None,
        "finished_at": OCCURRED_AT,
        "message": "completed",
    }
    json.dumps(changes["result"])  # stored in a JSON column


def test_failed_stores_the_error() -> None:
    event = job_failed(code=ErrorCode.INVALID_INPUT, message="bad size", retryable=False)

    assert job_changes(event) == {
        "status": "failed",
        "error": {"code": "invalid_input", "message": "bad size", "retryable": False},
        "finished_at": OCCURRED_AT,
        "message": "failed: invalid_input",
    }


def test_a_malformed_message_is_skipped_and_the_others_keep_their_order() -> None:
    first, second, third = job_queued(), job_started(), job_progress()
    unknown_type = json.loads(encode_event(third)) | {"type": "job.exploded"}
    payloads = [
        encode_event(first),
        b"not json",
        encode_event(second),
        json.dumps(unknown_type).encode(),
        b"\xff\xfe",
        b'{"type": "job.progress"}',
        encode_event(third),
    ]

    assert decode_batch(payloads) == [first, second, third]


async def test_project_applies_each_valid_event_with_its_changes_in_one_call() -> None:
    store = FakeJobStore()
    events = [job_queued(), job_started(), job_progress()]

    fresh = await project([encode_event(e) for e in events] + [b"junk"], store)

    assert fresh == 3
    assert store.applied == [[Change(e, update_for(e)) for e in events]]


async def test_a_batch_without_valid_events_does_not_touch_the_store() -> None:
    store = FakeJobStore()

    assert await project([b"junk", b"{}"], store) == 0
    assert await project([], store) == 0
    assert store.applied == []
