"""The transition table: for every state of a job and every event, whether the job accepts the
event and where it goes; and what an accepted event writes into the job's row.

A job accepts an event when
- the table has a next state for (its status, the event's type): a job that ended accepts
  nothing more, except `job.requeued` (a retry) after `failed` or `completed_with_errors`;
- the event is newer than the job's last one (`seq`): one numbering, never two events at a seq;
- a worker's report belongs to the job's current run (`request_id` equal to the job's
  `run_id`): a run that was superseded (the sweeper replaced a stalled or lost run) is fenced
  off, and nothing it reports shows, however late it arrives.

What follows an accepted event for a batch or chain parent is decided in `plans.family`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import assert_never

from darkroom.contracts.events import (
    JobCancelled,
    JobCompleted,
    JobCompletedWithErrors,
    JobEvent,
    JobFailed,
    JobProgress,
    JobQueued,
    JobRequeued,
    JobRetrying,
    JobStarted,
)
from darkroom.contracts.jobtypes import JobStatus
from darkroom.jobs.records import RowUpdate

S = JobStatus
EVENT_TYPES = (
    "job.queued",
    "job.requeued",
    "job.started",
    "job.progress",
    "job.retrying",
    "job.completed",
    "job.completed_with_errors",
    "job.failed",
    "job.cancelled",
)
_FROM_ACTIVE = {
    "job.queued": S.QUEUED,  # queued again: a new run replaces a lost or stalled one
    "job.started": S.RUNNING,
    "job.progress": S.RUNNING,
    "job.retrying": S.RETRYING,
    "job.completed": S.COMPLETED,
    "job.completed_with_errors": S.COMPLETED_WITH_ERRORS,
    "job.failed": S.FAILED,
    "job.cancelled": S.CANCELLED,
}
_REOPEN = {"job.requeued": S.QUEUED}

TABLE: dict[tuple[JobStatus, str], JobStatus | None] = {
    (status, kind): (
        _FROM_ACTIVE.get(kind)
        if not status.terminal
        else _REOPEN.get(kind)
        if status in (S.FAILED, S.COMPLETED_WITH_ERRORS)
        else None
    )
    for status in JobStatus
    for kind in EVENT_TYPES
}
"""(status, event type) -> the status after it, or None: the job refuses the event."""

# Events a worker's run reports (fenced by run); the others are the gateway's, decided from the
# job's row in the transaction that writes them.
REPORTS = frozenset(
    {"job.started", "job.progress", "job.retrying", "job.completed", "job.failed"}
    | {"job.cancelled"}
)


class Verdict(StrEnum):
    ACCEPTED = "accepted"
    ENDED = "ended"  # the job has ended: nothing but a retry reopens it
    STALE = "stale"  # not newer than the job's last event
    SUPERSEDED = "superseded"  # a report of a run that was replaced


@dataclass(frozen=True)
class JobState:
    """What judging an event needs of a job."""

    status: JobStatus
    last_seq: int
    run_id: uuid.UUID | None = None


def judge(state: JobState, event: JobEvent) -> Verdict:
    """Whether the job in `state` accepts `event`, and if not, why."""
    if TABLE[(state.status, event.type)] is None:
        return Verdict.ENDED
    if event.type in REPORTS and _other_run(state.run_id, event.request_id):
        return Verdict.SUPERSEDED
    if event.seq <= state.last_seq:
        return Verdict.STALE
    return Verdict.ACCEPTED


def _other_run(current: uuid.UUID | None, reported: uuid.UUID | None) -> bool:
    return current is not None and reported is not None and reported != current


def advance(state: JobState, event: JobEvent) -> JobState:
    """The state after an accepted event."""
    status = TABLE[(state.status, event.type)]
    assert status is not None, "advance() takes accepted events only"
    run = announced_run(event) or state.run_id
    return replace(state, status=status, last_seq=event.seq, run_id=run)


def announced_run(event: JobEvent) -> uuid.UUID | None:
    """The run an event makes the job's current one, if it names one: the request `job.queued`
    or `job.requeued` sends, the next attempt's request `job.retrying` schedules."""
    match event:
        case JobQueued() | JobRequeued():
            return event.request_id
        case JobRetrying():
            return event.next_request_id
        case _:
            return None


def update_for(event: JobEvent) -> RowUpdate:
    """What an accepted event writes into its job's row (beyond status, seq and time),
    its new run included."""
    update = _update_for(event)
    run = announced_run(event)
    return update if run is None else replace(update, run_id=run)


def _update_for(event: JobEvent) -> RowUpdate:
    match event:
        case JobQueued():
            return RowUpdate(status=S.QUEUED)
        case JobRequeued():
            return _requeued(event)
        case JobStarted():
            return RowUpdate(status=S.RUNNING, attempts=event.attempt, started_at=event.occurred_at)
        case JobProgress():
            return RowUpdate(
                status=S.RUNNING, progress=event.percent, message=event.message or None
            )
        case JobRetrying():
            return _retrying(event)
        case JobCompleted():
            result = event.result.model_dump(mode="json")
            update = _ended(event, S.COMPLETED, "completed")
            return replace(update, progress=100, result=result, error=None)
        case JobCompletedWithErrors():
            return _completed_with_errors(event)
        case JobFailed():
            error = {"code": event.code.value, "message": event.message}
            update = _ended(event, S.FAILED, f"failed: {event.code.value}")
            return replace(update, error={**error, "retryable": event.retryable})
        case JobCancelled():
            return _ended(event, S.CANCELLED, f"cancelled by {event.cancelled_by}")
        case _:
            assert_never(event)


def _requeued(event: JobRequeued) -> RowUpdate:
    return RowUpdate(
        status=S.QUEUED,
        series_start=event.attempt,
        progress=0,
        message=f"queued again by {event.requested_by}",
        result=None,
        error=None,
        finished_at=None,
    )


def _retrying(event: JobRetrying) -> RowUpdate:
    return RowUpdate(
        status=S.RETRYING,
        error={"code": event.code.value, "message": event.message, "retryable": True},
        message=f"attempt {event.next_attempt} at {event.next_attempt_at.isoformat()}",
    )


def _ended(event: JobEvent, status: JobStatus, message: str) -> RowUpdate:
    """A terminal event: the row says how the job ended, not its last step."""
    return RowUpdate(status=status, finished_at=event.occurred_at, message=message)


def _completed_with_errors(event: JobCompletedWithErrors) -> RowUpdate:
    failed, first = len(event.failed_children), event.failed_children[0]
    error = {
        "code": "children_failed",
        "message": f"{failed} children did not complete; the first, {first.job_id}, "
        f"{first.status}: {first.message}"[:2000],
        "retryable": False,
    }
    return RowUpdate(
        status=S.COMPLETED_WITH_ERRORS,
        progress=100,
        result=event.result.model_dump(mode="json"),
        error=error,
        finished_at=event.occurred_at,
        message=f"{failed} of the children did not complete",
    )
