"""Batch and chain parents: how their children's events move them.

Called in the transaction that records a child's accepted event, with the parent and every
child as they are now; what it returns is written in that same transaction. So a child's event
moves its parent exactly once however often it is delivered, and a parent's events are numbered
on from its row.

- batch: started when a child starts; progress is the mean of its children's; when every child
  has ended: `job.completed` (all completed), `job.completed_with_errors` (some did not, listed)
  or `job.failed` (none completed). Its result is the completed children's outputs.
- chain: one child per step, created here when the step before it completes, with that step's
  first output as its input; the chain completes with the last step's outputs, or fails naming
  the step that failed.

A parent that has ended no longer moves (a retry of its failed children reopens it first).
Messages count children exactly: completed, failed and cancelled each by name.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from darkroom.contracts.assets import AssetDescriptor, JobResult
from darkroom.contracts.errors import ErrorCode
from darkroom.contracts.events import (
    ChildFailure,
    JobCancelled,
    JobCompleted,
    JobCompletedWithErrors,
    JobFailed,
    JobProgress,
    JobStarted,
)
from darkroom.contracts.jobtypes import JobStatus, JobType, Priority
from darkroom.contracts.params import (
    ChainParams,
    InputImage,
)
from darkroom.contracts.topics import Topics
from darkroom.jobs.messages import event_message
from darkroom.jobs.numbering import E, EventNumbering
from darkroom.jobs.plans.submit import JobSpec, new_job
from darkroom.jobs.records import Change, JobRecord, Plan
from darkroom.jobs.transitions import update_for

ORCHESTRATOR = "orchestrator"
COMPLETED, FAILED, CANCELLED = "completed", "failed", "cancelled"


class _Parent:
    """The parent's next events, numbered on from its row, and what they write."""

    def __init__(self, record: JobRecord, topics: Topics, now: datetime) -> None:
        self.record, self.topics, self.now = record, topics, now
        self.numbering = EventNumbering.after(record, 1, now)
        self.plan = Plan()

    def emit(self, kind: type[E], note: str | None = None, **fields: Any) -> None:
        """The parent's next event; `note` is what its row says afterwards (its message)."""
        event = self.numbering.make(kind, **fields)
        update = update_for(event)
        if note is not None:
            update = replace(update, message=note[:200])
        self.plan.changes.append(Change(event, update))
        self.plan.messages.append(event_message(self.topics, event))

    def progress(self, percent: int, message: str) -> None:
        if percent != self.record.progress or message != self.record.message:
            self.emit(JobProgress, percent=percent, message=message[:200])


def plan_family(
    parent: JobRecord, children: list[JobRecord], topics: Topics, now: datetime
) -> Plan:
    """What the children's state makes of the parent (nothing, once the parent has ended)."""
    if parent.job_status.terminal or not children:
        return Plan()
    moves = _Parent(parent, topics, now)
    if parent.status == JobStatus.QUEUED.value and any(c.attempts > 0 for c in children):
        moves.emit(JobStarted, worker_id=ORCHESTRATOR)
    match parent.job_type:
        case JobType.BATCH:
            _batch(moves, children)
        case JobType.CHAIN:
            _chain(moves, children, ChainParams.model_validate(parent.params))
        case _:
            pass
    return moves.plan


def tally(children: Sequence[JobRecord]) -> str:
    """How the children stand, in words: '12/16 done: 10 completed, 1 failed, 1 cancelled'."""
    counts = {s: sum(c.status == s for c in children) for s in (COMPLETED, FAILED, CANCELLED)}
    ended = sum(c.job_status.terminal for c in children)
    parts = [f"{n} {status}" for status, n in counts.items() if n]
    return f"{ended}/{len(children)} done" + (": " + ", ".join(parts) if parts else "")


def _batch(moves: _Parent, children: list[JobRecord]) -> None:
    ended = [c for c in children if c.job_status.terminal]
    if len(ended) < len(children):
        percent = sum(100 if c in ended else c.progress for c in children) // len(children)
        moves.progress(min(percent, 99), tally(children))
        return
    completed = [c for c in children if c.status == COMPLETED]
    failures = [_failure(c) for c in children if c.status != COMPLETED]
    result = JobResult(assets=[a for c in completed for a in _assets(c)])
    note = tally(children)
    if not failures:
        moves.emit(JobCompleted, note, result=result)
    elif completed:
        moves.emit(JobCompletedWithErrors, note, result=result, failed_children=failures)
    else:
        moves.emit(
            JobFailed,
            note,
            code=ErrorCode.CHILDREN_FAILED,
            message=f"none of the {len(children)} children completed ({note}); the first: "
            f"{failures[0].status}: {failures[0].message}"[:2000],
            retryable=False,
        )


def _chain(moves: _Parent, children: list[JobRecord], chain: ChainParams) -> None:
    names, index = chain.step_names, len(children) - 1
    current = children[-1]
    label = f"step {index + 1} of {len(names)} ({names[index]}, job {current.job_id})"
    match current.status:
        case "completed" if index + 1 < len(names):
            _next_step(moves, current, chain, index)
        case "completed":
            done = f"completed all {len(names)} steps"
            moves.emit(JobCompleted, done, result=JobResult(assets=_assets(current)))
        case "failed":
            why = f"{label} failed: {current.error_code}: {current.error_message}"
            moves.emit(
                JobFailed, why, code=ErrorCode.STEP_FAILED, message=why[:2000], retryable=False
            )
        case "cancelled":
            note = f"{label} was cancelled"
            moves.emit(JobCancelled, note, cancelled_by=ORCHESTRATOR, while_running=True)
        case _:
            percent = (100 * index + current.progress) // len(names)
            moves.progress(min(percent, 99), f"{label}: {current.status}")


def _next_step(moves: _Parent, current: JobRecord, chain: ChainParams, index: int) -> None:
    """The chain's next step, created with the step before's first output as its input."""
    parent, names = moves.record, chain.step_names
    step = chain.steps[index]
    spec = JobSpec(
        job_id=uuid.uuid5(parent.job_id, f"step/{index + 1}"),
        user_id=parent.user_id,
        job_type=JobType(step.type),
        params=step.params(InputImage(key=_assets(current)[0].key)),
        priority=Priority(parent.priority),
        parent_id=parent.job_id,
    )
    created = max(moves.now, current.created_at + timedelta(microseconds=1))
    moves.plan.new_jobs.append(new_job(spec, moves.topics, created))
    percent = 100 * (index + 1) // len(names)
    moves.progress(percent, f"step {index + 2} of {len(names)} ({step.type}) queued")


def _assets(record: JobRecord) -> Sequence[AssetDescriptor]:
    return JobResult.model_validate(record.result).assets if record.result else []


def _failure(record: JobRecord) -> ChildFailure:
    return ChildFailure(
        job_id=record.job_id,
        status=record.status,
        code=_error_code(record) if record.status == FAILED else None,
        message=(record.error_message or record.message or record.status)[:2000],
    )


def _error_code(record: JobRecord) -> ErrorCode | None:
    try:
        return ErrorCode(record.error_code)
    except ValueError:
        return None
