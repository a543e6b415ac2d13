"""The transition table: every state of a job against every event, and the fences."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

from darkroom.contracts.assets import JobResult
from darkroom.contracts.errors import ErrorCode
from darkroom.contracts.events import (
    ChildFailure,
    JobCancelled,
    JobCompleted,
    JobCompletedWithErrors,
    JobFailed,
    JobProgress,
    JobQueued,
    JobRequeued,
    JobRetrying,
    JobStarted,
)
from darkroom.contracts.jobtypes import JobStatus, JobType
from darkroom.jobs.numbering import EventNumbering, JobIdentity
from darkroom.jobs.records import KEEP
from darkroom.jobs.transitions import (
    EVENT_TYPES,
    TABLE,
    JobState,
    Verdict,
    advance,
    judge,
    update_for,
)
from tests.factories import image_params

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
JOB = uuid.uuid4()
RUN = uuid.uuid4()
OTHER_RUN = uuid.uuid4()
S = JobStatus

EXPECTED: dict[JobStatus, dict[str, JobStatus | None]] = {
    **{
        status: {
            "job.queued": S.QUEUED,
            "job.requeued": None,
            "job.started": S.RUNNING,
            "job.progress": S.RUNNING,
            "job.retrying": S.RETRYING,
            "job.completed": S.COMPLETED,
            "job.completed_with_errors": S.COMPLETED_WITH_ERRORS,
            "job.failed": S.FAILED,
            "job.cancelled": S.CANCELLED,
        }
        for status in (S.QUEUED, S.RUNNING, S.RETRYING)
    },
    **{
        status: {kind: (S.QUEUED if kind == "job.requeued" else None) for kind in EVENT_TYPES}
        for status in (S.FAILED, S.COMPLETED_WITH_ERRORS)
    },
    **{status: dict.fromkeys(EVENT_TYPES) for status in (S.COMPLETED, S.CANCELLED)},
}


def event_of(kind: str, seq: int, run: uuid.UUID | None = RUN) -> Any:
    """An event of type `kind` at `seq`; a worker report of run `run`."""
    numbering = EventNumbering(JobIdentity(JOB, "alice", JobType.IMAGE), 1, seq, run)
    fields: dict[str, dict[str, object]] = {
        "job.queued": {"params": image_params(), "request_id": run},
        "job.requeued": {"requested_by": "alice", "request_id": run},
        "job.started": {"worker_id": "w1"},
        "job.progress": {"percent": 50, "message": "step 2/4"},
        "job.retrying": {
            "code": ErrorCode.PROVIDER_TIMEOUT,
            "message": "slow",
            "next_attempt": 2,
            "next_attempt_at": NOW,
            "next_request_id": OTHER_RUN,
        },
        "job.completed": {"result": JobResult(assets=[])},
        "job.completed_with_errors": {
            "result": JobResult(assets=[]),
            "failed_children": [ChildFailure(job_id=uuid.uuid4(), status="failed")],
        },
        "job.failed": {"code": ErrorCode.INVALID_INPUT, "message": "no", "retryable": False},
        "job.cancelled": {"cancelled_by": "alice", "while_running": True},
    }
    kinds: dict[str, Any] = {
        "job.queued": JobQueued,
        "job.requeued": JobRequeued,
        "job.started": JobStarted,
        "job.progress": JobProgress,
        "job.retrying": JobRetrying,
        "job.completed": JobCompleted,
        "job.completed_with_errors": JobCompletedWithErrors,
        "job.failed": JobFailed,
        "job.cancelled": JobCancelled,
    }
    return numbering.make(kinds[kind], **fields[kind])


def test_the_table_covers_every_state_and_event_type() -> None:
    assert set(TABLE) == {(s, k) for s in JobStatus for k in EVENT_TYPES}
    assert {s: {k: TABLE[(s, k)] for k in EVENT_TYPES} for s in JobStatus} == EXPECTED


@pytest.mark.parametrize("status", list(JobStatus))
@pytest.mark.parametrize("kind", EVENT_TYPES)
def test_each_state_accepts_exactly_the_events_its_row_in_the_table_allows(
    status: JobStatus, kind: str
) -> None:
    state = JobState(status, last_seq=5, run_id=RUN)
    event = event_of(kind, seq=6)
    verdict = judge(state, event)
    expected = EXPECTED[status][kind]
    if expected is None:
        assert verdict is Verdict.ENDED
    else:
        assert verdict is Verdict.ACCEPTED
        assert advance(state, event).status is expected
        assert advance(state, event).last_seq == 6


@pytest.mark.parametrize("kind", EVENT_TYPES)
def test_an_event_not_newer_than_the_jobs_last_is_refused_as_stale(kind: str) -> None:
    state = JobState(S.RUNNING if kind != "job.requeued" else S.FAILED, last_seq=6, run_id=RUN)
    assert judge(state, event_of(kind, seq=6)) is Verdict.STALE
    assert judge(state, event_of(kind, seq=3)) is Verdict.STALE


@pytest.mark.parametrize(
    "kind",
    ["job.started", "job.progress", "job.retrying", "job.completed", "job.failed", "job.cancelled"],
)
def test_a_report_of_a_superseded_run_is_refused_whatever_its_seq(kind: str) -> None:
    state = JobState(S.RUNNING, last_seq=6, run_id=RUN)
    late = event_of(kind, seq=7, run=OTHER_RUN)
    assert judge(state, late) is Verdict.SUPERSEDED
    assert judge(state, event_of(kind, seq=7)) is Verdict.ACCEPTED


def test_the_gateways_events_carry_no_run_and_are_never_fenced() -> None:
    state = JobState(S.RUNNING, last_seq=6, run_id=RUN)
    cancelled = event_of("job.cancelled", seq=7, run=None)
    assert judge(state, cancelled) is Verdict.ACCEPTED


def test_a_new_run_announced_by_job_queued_fences_off_the_old_one() -> None:
    state = JobState(S.RUNNING, last_seq=6, run_id=RUN)
    sweep = event_of("job.queued", seq=7, run=OTHER_RUN)  # the sweeper's new run
    state = advance(state, sweep)
    assert state.run_id == OTHER_RUN
    old = event_of("job.completed", seq=8, run=RUN)
    new = event_of("job.started", seq=8, run=OTHER_RUN)
    assert judge(state, old) is Verdict.SUPERSEDED
    assert judge(state, new) is Verdict.ACCEPTED


def test_job_retrying_hands_the_run_to_the_next_attempts_request() -> None:
    state = JobState(S.RUNNING, last_seq=3, run_id=RUN)
    state = advance(state, event_of("job.retrying", seq=4))
    assert state.run_id == OTHER_RUN and state.status is S.RETRYING


def test_a_terminal_event_says_how_the_job_ended_not_its_last_step() -> None:
    assert update_for(event_of("job.completed", 7)).message == "completed"
    failed = update_for(event_of("job.failed", 7))
    assert failed.message == "failed: invalid_input" and failed.status is S.FAILED
    cancelled = update_for(event_of("job.cancelled", 7))
    assert cancelled.message == "cancelled by alice"


def test_progress_leaves_the_columns_it_does_not_set_alone() -> None:
    update = update_for(event_of("job.progress", 4))
    assert update.result is KEEP and update.error is KEEP
    assert update.columns() == {"status": "running", "progress": 50, "message": "step 2/4"}
