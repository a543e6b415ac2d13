"""The sweeper's passes: find quiet jobs, tell waiting from lost, write what the core plans.

Each pass looks at jobs quiet past their deadline (`queued`/`retrying` past
SWEEPER_QUEUED_AFTER_S, `running` past SWEEPER_STALLED_AFTER_S). For the waiting ones it first
finds which of their requests still wait (in the outbox, or in Kafka past the consumer group's
committed offset); those are left alone however long the backlog. The rest are decided again
inside a write transaction from the row as it is then (`darkroom.jobs.plans.sweep`).
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from darkroom.contracts.envelope import utcnow
from darkroom.contracts.jobtypes import WORKER_TYPES, JobType
from darkroom.contracts.topics import Topics
from darkroom.gateway.sweeper.backlog import BacklogUnknown, RequestBacklog, groups_of
from darkroom.gateway.sweeper.settings import SweeperSettings
from darkroom.jobs.plans.sweep import RUNNING, WAITING, SweepRules, plan_sweep
from darkroom.jobs.records import JobRecord, Plan
from darkroom.runtime.db import JobStore
from darkroom.runtime.db.incarnation import record_incarnation, recorded_incarnation
from darkroom.runtime.db.lease import acquire_lease

logger = logging.getLogger(__name__)

LEASE = "sweeper"


@dataclass
class Sweeper:
    store: JobStore
    topics: Topics
    settings: SweeperSettings
    backlog: RequestBacklog
    incarnation: Callable[[], uuid.UUID | None] = lambda: None  # the broker log now talked to
    log_lost_at: datetime | None = None  # when the jobs' broker log was found lost

    @property
    def lease_ttl(self) -> timedelta:
        return timedelta(seconds=self.settings.sweeper_interval_s * 3)

    async def sweep_once(self) -> int:
        """Sweep every due job found in one pass; returns how many were changed."""
        now, settings = utcnow(), self.settings
        waiting = await self._quiet(
            WAITING, now - timedelta(seconds=settings.sweeper_queued_after_s)
        )
        running = await self._quiet(
            RUNNING, now - timedelta(seconds=settings.sweeper_stalled_after_s)
        )
        still_waiting = await self._still_waiting(waiting)
        if still_waiting is None:  # cannot tell: leave the waiting jobs for the next pass
            waiting = []
        changed = 0
        for record in [*waiting, *running]:
            held = record.run_id is not None and record.run_id in (still_waiting or set())
            changed += await self._sweep(record, held)
        return changed

    async def follow_broker(self, holder: str) -> int:
        """If the jobs were last sent to another log of the broker (it lost its log since, alone
        or with the whole stack), queue the waiting ones again now; returns how many. Only the
        lease holder does it (every gateway replica notices the new broker)."""
        incarnation, name = self.incarnation(), self.topics.incarnation
        if incarnation is None or incarnation == await recorded_incarnation(self.store.db, name):
            return 0
        if not await acquire_lease(self.store.db, LEASE, holder, self.lease_ttl):
            return 0
        before = await recorded_incarnation(self.store.db, name)
        changed = 0
        if before not in (None, incarnation):
            self.log_lost_at = utcnow()
            changed = await self.sweep_lost_waiting()
        await record_incarnation(self.store.db, name, incarnation)
        return changed

    async def sweep_orphaned_runs(self) -> int:
        """Once SWEEPER_LOST_LOG_GRACE_S has passed since the broker lost its log, every running
        job with no event since is given a new run: its worker went with the broker (a live one
        heartbeats). The stalled deadline is not waited for."""
        lost, grace = self.log_lost_at, self.settings.sweeper_lost_log_grace_s
        if lost is None or utcnow() < lost + timedelta(seconds=grace):
            return 0
        self.log_lost_at = None
        quiet = (utcnow() - lost).total_seconds()
        rules = replace(self.settings.sweep_rules, stalled_after_s=quiet)
        changed = 0
        for record in await self._quiet(RUNNING, lost):
            changed += await self._sweep(record, False, rules)
        logger.warning("gave %d running job(s) a new run after the broker lost its log", changed)
        return changed

    async def sweep_lost_waiting(self) -> int:
        """The broker lost its log: every waiting job whose request is neither in the new log nor
        in the outbox is queued again now, whatever its age (the database is the truth)."""
        since, changed = utcnow(), 0
        rules = replace(self.settings.sweep_rules, queued_after_s=0)
        while True:
            page = await self._quiet(WAITING, since)
            still_waiting = await self._still_waiting(page)
            if still_waiting is None:
                raise BacklogUnknown("the new log's request topics could not be read")
            swept = 0
            for record in page:
                held = record.run_id is not None and record.run_id in still_waiting
                swept += await self._sweep(record, held, rules)
            changed += swept
            if len(page) < self.settings.sweeper_batch_size or not swept:
                break
        logger.warning("queued %d waiting job(s) again after the broker lost its log", changed)
        return changed

    async def _quiet(self, statuses: frozenset[str], since: datetime) -> list[JobRecord]:
        limit = self.settings.sweeper_batch_size
        return await self.store.stalled_jobs(statuses, since, limit, WORKER_TYPES)

    async def _still_waiting(self, jobs: list[JobRecord]) -> set[uuid.UUID] | None:
        """The current requests of these jobs that still wait (outbox or Kafka); None if Kafka
        could not be read."""
        if not jobs:
            return set()
        unsent = await self.store.outbox.unsent_requests([j.job_id for j in jobs])
        groups = groups_of(self.topics, {JobType(j.type) for j in jobs})
        try:
            return unsent | await self.backlog.waiting(groups)
        except Exception as exc:  # BacklogUnknown, or the broker away: the pass goes on
            logger.warning(
                "cannot tell waiting requests from lost ones (%s): not sweeping them", exc
            )
            return None

    async def _sweep(
        self, record: JobRecord, waiting: bool, rules: SweepRules | None = None
    ) -> int:
        """Decide again from the row inside the transaction; 1 if it changed."""
        decided: list[Plan] = []
        rules = rules or self.settings.sweep_rules

        def decide(current: JobRecord) -> Plan:
            still = waiting and current.run_id == record.run_id
            decided.append(plan_sweep(current, rules, self.topics, utcnow(), still))
            return decided[-1]

        await self.store.change_job(record.job_id, decide)
        if not decided or not decided[0]:
            return 0
        logger.warning(
            "job %s was %s with no news since %s: %s",
            record.job_id,
            record.status,
            record.updated_at.isoformat(),
            decided[0].changes[0].event.type if decided[0].changes else "swept",
            extra={"job_id": str(record.job_id)},
        )
        return 1


async def run_sweeper(sweeper: Sweeper, holder: str) -> None:
    """Sweep every interval while holding the lease; other replicas wait for it to expire."""
    interval = sweeper.settings.sweeper_interval_s
    while True:
        try:
            await sweeper.follow_broker(holder)
            if await acquire_lease(sweeper.store.db, LEASE, holder, sweeper.lease_ttl):
                await sweeper.sweep_orphaned_runs()
                await sweeper.sweep_once()
        except Exception:
            logger.exception("sweep failed; trying again next interval")
        await asyncio.sleep(interval)
