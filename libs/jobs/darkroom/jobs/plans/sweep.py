"""Sweeping a job no worker reports on: a new run replaces the lost or stalled one.

A job is swept when it has not ended and no event about it arrived for a while:
- `queued` or `retrying` past `queued_after_s`, *and its request is not waiting in a topic*
  (the caller looks: a request still in a backlog, however long, is never sent twice);
- `running` past `stalled_after_s`: its worker sends heartbeats, so it has stopped or hangs.

The new run gets a new request (attempt + 1, numbered on from the job's last event) announced by
`job.queued`, which makes it the job's current run: whatever the old run still reports is
refused. A control message tells the workers to stop the old run. A job past `max_attempts` in
its series is failed with code `stalled` instead.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from darkroom.contracts.control import RunSuperseded
from darkroom.contracts.errors import ErrorCode
from darkroom.contracts.events import JobFailed, JobQueued
from darkroom.contracts.jobtypes import JobStatus
from darkroom.contracts.params import parse_params
from darkroom.contracts.topics import Topics
from darkroom.jobs.messages import control_message, event_message, rerun_message
from darkroom.jobs.numbering import EventNumbering
from darkroom.jobs.records import Change, JobRecord, OutboxMessage, Plan
from darkroom.jobs.transitions import update_for

WAITING = frozenset({JobStatus.QUEUED.value, JobStatus.RETRYING.value})
RUNNING = frozenset({JobStatus.RUNNING.value})


@dataclass(frozen=True)
class SweepRules:
    queued_after_s: float
    stalled_after_s: float
    max_attempts: int


def quiet_for(record: JobRecord, rules: SweepRules) -> timedelta:
    """How long the job must be quiet before it is swept."""
    running = record.status in RUNNING
    return timedelta(seconds=rules.stalled_after_s if running else rules.queued_after_s)


def is_due(record: JobRecord, rules: SweepRules, now: datetime) -> bool:
    """Whether the job has not ended and has been quiet long enough to be swept."""
    if record.job_type.is_parent or record.job_status.terminal:
        return False
    return record.updated_at < now - quiet_for(record, rules)


def plan_sweep(
    record: JobRecord, rules: SweepRules, topics: Topics, now: datetime, waiting: bool
) -> Plan:
    """What sweeping `record` writes, decided from the row as it is now (it may have moved on).
    `waiting`: its current request is still in a topic (or the outbox): then nothing."""
    if not is_due(record, rules, now) or (waiting and record.status in WAITING):
        return Plan()
    attempt, seq = record.attempts + 1, record.last_seq + 1
    if attempt - record.series_start + 1 > rules.max_attempts:
        return _fail(record, rules, topics, now, attempt)
    run = uuid.uuid5(record.job_id, f"sweep/{seq}")
    numbering = EventNumbering.after(record, attempt, now)
    queued = numbering.make(JobQueued, params=parse_params(record.params), request_id=run)
    quiet = (now - record.updated_at).total_seconds()
    note = f"queued again: no news for {quiet:.0f} s"
    request = rerun_message(
        record,
        topics,
        request_id=run,
        attempt=attempt,
        first_seq=seq + 1,
        series_start=record.series_start,
        now=now,
    )
    plan = Plan([Change(queued, replace(update_for(queued), message=note))])
    plan.messages += [event_message(topics, queued), request, *_stop(record, run, topics, now)]
    return plan


def _fail(
    record: JobRecord, rules: SweepRules, topics: Topics, now: datetime, attempt: int
) -> Plan:
    numbering = EventNumbering.after(record, attempt, now)
    failed = numbering.make(
        JobFailed,
        code=ErrorCode.STALLED,
        message=f"no worker reported on the job for {quiet_for(record, rules).total_seconds():g} s, "
        f"{attempt - record.series_start} times",
        retryable=True,
    )
    messages = [event_message(topics, failed), *_stop(record, record.run_id, topics, now)]
    return Plan([Change(failed, update_for(failed))], messages)


def _stop(
    record: JobRecord, replaced_by: uuid.UUID | None, topics: Topics, now: datetime
) -> list[OutboxMessage]:
    """The control message that stops the job's current run, if it has one."""
    if record.run_id is None or replaced_by is None:
        return []
    superseded = RunSuperseded(
        job_id=record.job_id,
        superseded_request_id=record.run_id,
        request_id=replaced_by,
        superseded_at=now,
    )
    return [control_message(topics, record.job_id, superseded)]
