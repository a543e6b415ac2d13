"""The `JobEvent` union: one model per type, tolerant of fields added later, deterministic ids."""

import json
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from pydantic import ValidationError

from darkroom.contracts.envelope import make_event_id
from darkroom.contracts.events import (
    JobCompleted,
    JobFailed,
    JobProgress,
    JobQueued,
    JobRequeued,
    JobStarted,
    encode_event,
    is_terminal,
    job_event_adapter,
    parse_event,
)
from tests.factories import EVENT_FACTORIES, job_progress

MODELS = {
    "job.queued": JobQueued,
    "job.started": JobStarted,
    "job.progress": JobProgress,
    "job.completed": JobCompleted,
    "job.failed": JobFailed,
    "job.requeued": JobRequeued,
}


@pytest.mark.parametrize("event_type", sorted(EVENT_FACTORIES))
def test_each_event_type_parses_to_its_own_model(event_type: str) -> None:
    original = EVENT_FACTORIES[event_type]()

    parsed = parse_event(encode_event(original))

    assert type(parsed) is MODELS[event_type]
    assert parsed == original


@pytest.mark.parametrize("event_type", sorted(EVENT_FACTORIES))
def test_unknown_extra_fields_are_ignored(event_type: str) -> None:
    data = json.loads(encode_event(EVENT_FACTORIES[event_type]()))
    data["added_in_a_later_version"] = {"anything": 1}

    parsed = job_event_adapter.validate_python(data)

    assert parsed.type == event_type
    assert not hasattr(parsed, "added_in_a_later_version")


def test_an_unknown_event_type_is_rejected() -> None:
    data = json.loads(encode_event(job_progress()))
    data["type"] = "job.exploded"

    with pytest.raises(ValidationError):
        job_event_adapter.validate_python(data)


def test_events_are_frozen() -> None:
    event = job_progress()

    with pytest.raises(ValidationError):
        event.percent = 99  # type: ignore[misc]


@pytest.mark.parametrize(
    ("event_type", "terminal"),
    [
        ("job.queued", False),
        ("job.started", False),
        ("job.progress", False),
        ("job.completed", True),
        ("job.failed", True),
    ],
)
def test_only_completed_and_failed_are_terminal(event_type: str, terminal: bool) -> None:
    assert is_terminal(EVENT_FACTORIES[event_type]()) is terminal


def test_event_id_is_the_same_for_the_same_step() -> None:
    job_id = uuid.uuid4()

    assert make_event_id(job_id, 1, 3, "job.progress") == make_event_id(
        job_id, 1, 3, "job.progress"
    )


@pytest.mark.parametrize(
    "change",
    [
        lambda args: {**args, "attempt": 2},
        lambda args: {**args, "seq": 4},
        lambda args: {**args, "event_type": "job.completed"},
        lambda args: {**args, "job_id": uuid.uuid4()},
    ],
    ids=["attempt", "seq", "type", "job"],
)
def test_event_id_differs_by_attempt_seq_type_and_job(
    change: Callable[[dict[str, Any]], dict[str, Any]],
) -> None:
    args: dict[str, Any] = {
        "job_id": uuid.uuid4(),
        "attempt": 1,
        "seq": 3,
        "event_type": "job.progress",
    }

    assert make_event_id(**args) != make_event_id(**change(args))
