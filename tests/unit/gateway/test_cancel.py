"""The cancel use case's answer: what happened, in words, from the job (or family) as it was."""

from __future__ import annotations

import pytest

from darkroom.gateway.cancel import answer, answer_family
from tests.factories import batch_family, job_record


@pytest.mark.parametrize("status", ["queued", "retrying"])
def test_a_job_that_was_not_running_is_answered_cancelled(status: str) -> None:
    record = job_record(status)

    result = answer(record.job_id, record)

    assert (result.outcome, result.status.value) == ("cancelled", "cancelled")


def test_a_running_job_is_answered_stopping() -> None:
    record = job_record("running")

    result = answer(record.job_id, record)

    assert (result.outcome, result.status.value) == ("stopping", "running")


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        ("completed", "already_finished"),
        ("failed", "already_finished"),
        ("cancelled", "already_cancelled"),
    ],
)
def test_cancelling_an_ended_job_says_nothing_changed(status: str, outcome: str) -> None:
    record = job_record(status)

    result = answer(record.job_id, record)

    assert (result.outcome, result.status.value) == (outcome, status)


def test_the_answer_counts_waiting_and_running_children() -> None:
    parent, children = batch_family(
        "running", "queued", "retrying", "running", "completed", "failed"
    )

    result = answer_family(parent.job_id, parent, children)

    assert (result.outcome, result.status.value) == ("cancelled", "cancelled")
    assert "batch was cancelled" in result.detail
    assert "2 waiting children will not run" in result.detail
    assert "1 running children stop at their next step" in result.detail


@pytest.mark.parametrize(
    ("status", "outcome"), [("completed", "already_finished"), ("cancelled", "already_cancelled")]
)
def test_the_answer_for_an_ended_family_says_nothing_changed(status: str, outcome: str) -> None:
    parent, children = batch_family(status, "completed")

    result = answer_family(parent.job_id, parent, children)

    assert (result.outcome, result.status.value) == (outcome, status)
