"""The sweeper: no accepted job waits forever, whatever the broker lost.

A job is *stalled* when it is not terminal and no event about it has arrived for a while:
- `queued` or `retrying` for `SWEEPER_QUEUED_AFTER_S` (10 min): its request (or waiting retry)
  was lost, for example by an embedded broker that restarted, or waits behind a long backlog;
- `running` for `SWEEPER_STALLED_AFTER_S` (2 min): workers send a progress heartbeat every
  `JOB_HEARTBEAT_S` (15 s), so a running job this quiet has lost its worker *and* its request.

A stalled job is queued again: `job.queued` (noting why) and a new request, numbered on from the
job's last event, go through the outbox in one transaction with the job's row, so the job shows
`queued` again and a worker takes it up. A running job gets a new attempt; one past
`SWEEPER_MAX_ATTEMPTS` is failed with code `stalled` instead. Requeuing a job whose request is
merely waiting in a backlog costs a duplicate run, which produces the same event ids and asset
keys, so it never shows twice.

Batch and chain jobs are not swept: no worker runs them; their children are swept, and their
children's events end them.

One sweeper runs at a time, whatever the number of gateway replicas: a database lease.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from datetime import timedelta

from darkroom.contracts.envelope import utcnow
from darkroom.contracts.errors import ErrorCode
from darkroom.contracts.events import JobFailed, JobQueued
from darkroom.contracts.jobtypes import WORKER_TYPES, JobStatus
from darkroom.contracts.params import parse_params
from darkroom.contracts.topics import Topics
from darkroom.gateway.job_messages import event_message, next_envelope, request_message
from darkroom.gateway.projector import job_changes
from darkroom.gateway.settings import SweeperSettings
from darkroom.runtime.db import JobRecord, JobStore
from darkroom.runtime.db.lease import acquire_lease
from darkroom.runtime.db.store import JobChange

logger = logging.getLogger(__name__)

LEASE = "sweeper"
WAITING = (JobStatus.QUEUED.value, JobStatus.RETRYING.value)
RUNNING = (JobStatus.RUNNING.value,)


def plan_requeue(record: JobRecord, topics: Topics, settings: SweeperSettings) -> JobChange:
    """What sweeping `record` writes, decided from the row as it is now (it may have moved on)."""
    now = utcnow()
    if JobStatus(record.status).terminal or record.updated_at >= now - _quiet_for(record, settings):
        return [], []  # it ended or spoke up meanwhile
    running = record.status in RUNNING
    attempt = record.attempts + 1 if running else max(1, record.attempts)
    seq = record.last_seq + 1
    if attempt - record.series_start + 1 > settings.sweeper_max_attempts:
        failed = JobFailed(
            **next_envelope(record, "job.failed", attempt, seq, now),
            code=ErrorCode.STALLED,
            message=f"no worker reported on the job for {settings.sweeper_stalled_after_s:g} s, "
            f"{record.attempts} times",
            retryable=True,
        )
        return [(failed, job_changes(failed))], [event_message(topics, failed)]
    queued = JobQueued(
        **next_envelope(record, "job.queued", attempt, seq, now),
        params=parse_params(record.params),
    )
    request = request_message(
        record,
        topics,
        request_id=uuid.uuid5(record.job_id, f"sweep/{seq}"),
        attempt=attempt,
        first_seq=seq + 1,
        series_start=record.series_start,
        now=now,
    )
    note = f"queued again: no news for {(now - record.updated_at).total_seconds():.0f} s"
    changes = [(queued, {"status": "queued", "message": note})]
    return changes, [event_message(topics, queued), request]


def _quiet_for(record: JobRecord, settings: SweeperSettings) -> timedelta:
    seconds = (
        settings.sweeper_stalled_after_s
        if record.status in RUNNING
        else settings.sweeper_queued_after_s
    )
    return timedelta(seconds=seconds)


async def sweep_once(store: JobStore, topics: Topics, settings: SweeperSettings) -> int:
    """Requeue (or fail) every stalled job found in one pass; returns how many were changed."""
    now, changed = utcnow(), 0
    batches = [
        (WAITING, now - timedelta(seconds=settings.sweeper_queued_after_s)),
        (RUNNING, now - timedelta(seconds=settings.sweeper_stalled_after_s)),
    ]
    for statuses, quiet_since in batches:
        for record in await store.stalled_jobs(
            statuses, quiet_since, settings.sweeper_batch_size, WORKER_TYPES
        ):
            if await _sweep(store, record, topics, settings):
                changed += 1
                logger.warning(
                    "job %s was %s with no news since %s: swept",
                    record.job_id,
                    record.status,
                    record.updated_at.isoformat(),
                )
    return changed


async def _sweep(
    store: JobStore, record: JobRecord, topics: Topics, settings: SweeperSettings
) -> bool:
    """Sweep one job, deciding again from its row inside the transaction; whether it changed."""
    written: list[bool] = []

    def plan(current: JobRecord) -> JobChange:
        change = plan_requeue(current, topics, settings)
        written.append(change != ([], []))
        return change

    await store.change_job(record.job_id, plan)
    return any(written)


async def run_sweeper(
    store: JobStore, topics: Topics, settings: SweeperSettings, holder: str
) -> None:
    """Sweep every interval while holding the lease; other replicas wait for it to expire."""
    ttl = timedelta(seconds=settings.sweeper_interval_s * 3)
    while True:
        try:
            if await acquire_lease(store.db, LEASE, holder, ttl):
                await sweep_once(store, topics, settings)
        except Exception:
            logger.exception("sweep failed; trying again next interval")
        await asyncio.sleep(settings.sweeper_interval_s)
