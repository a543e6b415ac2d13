"""Batch and chain parents: how their children's events move them. Plain functions.

The projector calls `react` in the transaction that records a child's new event, with the parent
and every child as they are now; what it returns is written in that same transaction. So a
child's event moves its parent exactly once however often Kafka delivers it, and a parent's
events are numbered on from its row, never twice the same.

- batch: started when a child starts; progress is the mean of its children's; when every child
  has ended: `job.completed` (all completed), `job.completed_with_errors` (some did not, listed)
  or `job.failed` (none completed). Its result is the completed children's outputs.
- chain: one child per step, created here when the step before it completes, with that step's
  first output as its input; the chain completes with the last step's outputs, or fails naming
  the step that failed.

A parent that has ended (a cancelled batch, say) no longer moves.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, assert_never

from darkroom.contracts.assets import AssetDescriptor, JobResult
from darkroom.contracts.envelope import utcnow
from darkroom.contracts.errors import ErrorCode
from darkroom.contracts.events import (
    ChildFailure,
    JobCancelled,
    JobCompleted,
    JobCompletedWithErrors,
    JobEvent,
    JobFailed,
    JobProgress,
    JobStarted,
)
from darkroom.contracts.jobtypes import JobStatus, JobType, Priority
from darkroom.contracts.params import (
    ChainParams,
    InputImage,
    JobParams,
    UpscaleParams,
    UpscaleStep,
    VariantsParams,
    VariantsStep,
)
from darkroom.contracts.topics import Topics
from darkroom.gateway.job_messages import event_message, new_job_write, next_envelope
from darkroom.gateway.projector import job_changes
from darkroom.runtime.db import JobRecord
from darkroom.runtime.db.store import FamilyChange, React

ORCHESTRATOR = "orchestrator"
COMPLETED = JobStatus.COMPLETED.value
FAILED = JobStatus.FAILED.value


def reactor(topics: Topics) -> React:
    """The projector's reaction to children's events."""

    def react(parent: JobRecord, children: list[JobRecord]) -> FamilyChange:
        return plan_family(parent, children, topics, utcnow())

    return react


class _Events:
    """The parent's next events, numbered on from its row."""

    def __init__(self, parent: JobRecord, topics: Topics, now: datetime) -> None:
        self.parent, self.topics, self.now = parent, topics, now
        self.seq = parent.last_seq
        self.change = FamilyChange()

    def envelope(self, event_type: str) -> dict[str, Any]:
        self.seq += 1
        return next_envelope(self.parent, event_type, 1, self.seq, self.now)

    def add(self, event: JobEvent) -> None:
        self.change.events.append((event, job_changes(event)))
        self.change.messages.append(event_message(self.topics, event))


def plan_family(
    parent: JobRecord, children: list[JobRecord], topics: Topics, now: datetime
) -> FamilyChange:
    """What the children's state makes of the parent (nothing, once the parent has ended)."""
    if JobStatus(parent.status).terminal or not children:
        return FamilyChange()
    events = _Events(parent, topics, now)
    if parent.status == JobStatus.QUEUED.value and any(c.attempts > 0 for c in children):
        events.add(JobStarted(**events.envelope("job.started"), worker_id=ORCHESTRATOR))
    match JobType(parent.type):
        case JobType.BATCH:
            _batch(events, children)
        case JobType.CHAIN:
            _chain(events, children, ChainParams.model_validate(parent.params))
        case _:
            pass
    return events.change


def _progress(events: _Events, percent: int, message: str) -> None:
    parent = events.parent
    if percent != parent.progress or message != parent.message:
        events.add(JobProgress(**events.envelope("job.progress"), percent=percent, message=message))


def _batch(events: _Events, children: list[JobRecord]) -> None:
    ended = [c for c in children if JobStatus(c.status).terminal]
    completed = [c for c in ended if c.status == COMPLETED]
    failures = [_failure(c) for c in ended if c.status != COMPLETED]
    if len(ended) < len(children):
        percent = sum(100 if c in ended else c.progress for c in children) // len(children)
        note = f"{len(ended)}/{len(children)} done" + (
            f", {len(failures)} failed" if failures else ""
        )
        _progress(events, min(percent, 99), note)
        return
    result = JobResult(assets=[a for c in completed for a in _assets(c)])
    if not failures:
        events.add(JobCompleted(**events.envelope("job.completed"), result=result))
    elif completed:
        events.add(
            JobCompletedWithErrors(
                **events.envelope("job.completed_with_errors"),
                result=result,
                failed_children=failures,
            )
        )
    else:
        first = failures[0]
        events.add(
            JobFailed(
                **events.envelope("job.failed"),
                code=ErrorCode.CHILDREN_FAILED,
                message=f"none of the {len(children)} children completed; the first: "
                f"{first.status}: {first.message}"[:2000],
                retryable=False,
            )
        )


def _chain(events: _Events, children: list[JobRecord], chain: ChainParams) -> None:
    names, index = chain.step_names, len(children) - 1
    current = children[-1]
    label = f"step {index + 1} of {len(names)} ({names[index]}, job {current.job_id})"
    match current.status:
        case "completed" if index + 1 < len(names):
            assets = _assets(current)
            step = chain.steps[index]
            params = _step_params(step, InputImage(key=assets[0].key))
            child = new_job_write(
                events.topics,
                job_id=uuid.uuid5(events.parent.job_id, f"step/{index + 1}"),
                user_id=events.parent.user_id,
                job_type=JobType(step.type),
                params=params,
                priority=Priority(events.parent.priority),
                now=max(events.now, current.created_at + timedelta(microseconds=1)),
                parent_id=events.parent.job_id,
            )
            events.change.new_jobs.append(child)
            percent = 100 * (index + 1) // len(names)
            _progress(events, percent, f"step {index + 2} of {len(names)} ({step.type}) queued")
        case "completed":
            result = JobResult(assets=_assets(current))
            events.add(JobCompleted(**events.envelope("job.completed"), result=result))
        case "failed":
            error = current.error or {}
            events.add(
                JobFailed(
                    **events.envelope("job.failed"),
                    code=ErrorCode.STEP_FAILED,
                    message=f"{label} failed: {error.get('code', 'unknown')}: "
                    f"{error.get('message', '')}"[:2000],
                    retryable=False,
                )
            )
        case "cancelled":
            events.add(
                JobCancelled(
                    **events.envelope("job.cancelled"),
                    cancelled_by=ORCHESTRATOR,
                    while_running=True,
                )
            )
        case _:
            percent = (100 * index + current.progress) // len(names)
            _progress(events, min(percent, 99), f"{label}: {current.status}")


def _step_params(step: UpscaleStep | VariantsStep, source: InputImage) -> JobParams:
    match step:
        case UpscaleStep():
            return UpscaleParams(input=source, scale=step.scale, format=step.format)
        case VariantsStep():
            return VariantsParams(input=source)
        case _:
            assert_never(step)


def _assets(record: JobRecord) -> Sequence[AssetDescriptor]:
    return JobResult.model_validate(record.result).assets if record.result else []


def _failure(record: JobRecord) -> ChildFailure:
    error = record.error or {}
    code = error.get("code")
    return ChildFailure(
        job_id=record.job_id,
        status=record.status,
        code=ErrorCode(code) if code and record.status == FAILED else None,
        message=str(error.get("message", record.status))[:2000],
    )
