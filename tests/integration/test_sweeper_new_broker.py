"""The sweeper when the broker has another log than the one the jobs were sent to (it lost its
log, alone or with the whole stack): the waiting jobs are queued again at once, once, by the
lease holder only; against real SQLite and PostgreSQL databases of their own (the sweep takes
every waiting job of the database)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from darkroom.contracts.topics import Topics
from darkroom.gateway.sweeper.backlog import BacklogUnknown
from darkroom.gateway.sweeper.loop import Sweeper
from darkroom.gateway.sweeper.settings import SweeperSettings
from darkroom.jobs.records import Change, NewJobPlan
from darkroom.jobs.transitions import update_for
from darkroom.runtime.db import JobStore, open_database
from darkroom.runtime.db.incarnation import record_incarnation, recorded_incarnation
from darkroom.runtime.db.lease import acquire_lease, lease_holder
from darkroom.runtime.db.migrate import upgrade
from darkroom.runtime.settings import DatabaseSettings
from tests.fixtures.db import _admin, sqlite_url
from tests.integration.helpers import new_job, progress, random_user, started
from tests.integration.test_sweeper import Backlog

pytestmark = pytest.mark.integration

TOPICS = Topics.with_suffix("nb")
SETTINGS = SweeperSettings(sweeper_queued_after_s=600, sweeper_stalled_after_s=600)
OLD, NEW = uuid.uuid4(), uuid.uuid4()


@pytest.fixture(params=["sqlite", "postgresql"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[JobStore]:
    """A migrated database of the test's own."""
    name = None
    if request.param == "sqlite":
        url = sqlite_url(tmp_path / "darkroom.db")
    else:
        admin = request.getfixturevalue("postgres_admin_url")
        admin = admin.replace("postgresql+asyncpg://", "postgresql://")
        name = f"darkroom_nb_{uuid.uuid4().hex[:10]}"
        await _admin(admin, f'CREATE DATABASE "{name}"')
        url = admin.rsplit("/", 1)[0] + f"/{name}"
    await upgrade(DatabaseSettings(database_url=url))
    db = open_database(DatabaseSettings(database_url=url))
    yield JobStore(db)
    await db.dispose()
    if name is not None:
        await _admin(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def fresh_job(store: JobStore, running: bool = False) -> NewJobPlan:
    """A job submitted just now (far from any deadline), its messages sent (not in the outbox)."""
    plan = replace(new_job(random_user(), topics=TOPICS), messages=())
    await store.create_jobs([plan])
    if running:
        event = started(plan.job.job_id, plan.job.user_id, 2, run=plan.job.run_id)
        await store.apply_events([Change(event, update_for(event))])
    return plan


def sweeper(
    store: JobStore,
    backlog: Backlog,
    now_on: uuid.UUID | None = NEW,
    settings: SweeperSettings = SETTINGS,
) -> Sweeper:
    return Sweeper(store, TOPICS, settings, backlog, lambda: now_on)  # type: ignore[arg-type]


async def kinds(store: JobStore, plan: NewJobPlan) -> list[str]:
    return [e.type for e in await store.events_for(plan.job.job_id)]


async def test_waiting_jobs_are_queued_again_at_once_when_the_broker_has_another_log(
    store: JobStore,
) -> None:
    lost, waiting = await fresh_job(store), await fresh_job(store)
    running = await fresh_job(store, running=True)
    await record_incarnation(store.db, TOPICS.incarnation, OLD)
    new_log = Backlog({waiting.job.run_id})  # already sent again to the new log: left alone

    assert await sweeper(store, new_log).follow_broker("g1") == 1
    assert await sweeper(store, new_log).follow_broker("g1") == 0  # once

    assert await kinds(store, lost) == ["job.queued", "job.queued"]
    assert await kinds(store, waiting) == ["job.queued"]
    assert await kinds(store, running) == ["job.queued", "job.started"]  # its worker reports
    assert await recorded_incarnation(store.db, TOPICS.incarnation) == NEW
    requests = [r for r in await store.outbox.fetch(100) if r.topic == TOPICS.image.requested]
    assert [r.key for r in requests] == [str(lost.job.job_id)]


async def test_the_first_log_a_database_sees_is_recorded_and_nothing_is_swept(
    store: JobStore,
) -> None:
    job = await fresh_job(store)

    assert await sweeper(store, Backlog()).follow_broker("g1") == 0

    assert await kinds(store, job) == ["job.queued"]
    assert await recorded_incarnation(store.db, TOPICS.incarnation) == NEW


async def test_a_gateway_not_holding_the_lease_leaves_it_to_the_holder(store: JobStore) -> None:
    job = await fresh_job(store)
    await record_incarnation(store.db, TOPICS.incarnation, OLD)
    assert await acquire_lease(store.db, "sweeper", "g2", timedelta(minutes=1))

    assert await sweeper(store, Backlog()).follow_broker("g1") == 0

    assert await kinds(store, job) == ["job.queued"]
    assert await recorded_incarnation(store.db, TOPICS.incarnation) == OLD  # the holder's to do


async def test_when_the_new_log_cannot_be_read_nothing_changes_and_it_is_tried_again(
    store: JobStore,
) -> None:
    job = await fresh_job(store)
    await record_incarnation(store.db, TOPICS.incarnation, OLD)

    with pytest.raises(BacklogUnknown):
        await sweeper(store, Backlog(unknown=True)).follow_broker("g1")
    assert await recorded_incarnation(store.db, TOPICS.incarnation) == OLD
    assert await sweeper(store, Backlog()).follow_broker("g1") == 1
    assert await kinds(store, job) == ["job.queued", "job.queued"]


async def test_a_gateway_that_has_not_reached_the_broker_yet_does_nothing(store: JobStore) -> None:
    await record_incarnation(store.db, TOPICS.incarnation, OLD)
    await fresh_job(store)

    assert await sweeper(store, Backlog(), now_on=None).follow_broker("g1") == 0
    assert await recorded_incarnation(store.db, TOPICS.incarnation) == OLD
    assert await lease_holder(store.db, "sweeper") is None


async def test_a_running_job_quiet_since_the_broker_lost_its_log_gets_a_new_run_after_the_grace(
    store: JobStore,
) -> None:
    """Its worker went with the broker (a whole stack restarted): the stalled deadline (600 s
    here) is not waited for. A job whose worker reports to the new broker is left alone."""
    orphan, alive = await fresh_job(store, running=True), await fresh_job(store, running=True)
    await record_incarnation(store.db, TOPICS.incarnation, OLD)
    settings = SETTINGS.model_copy(update={"sweeper_lost_log_grace_s": 0.3})
    swept = sweeper(store, Backlog(), settings=settings)
    await swept.follow_broker("g1")
    heartbeat = progress(alive.job.job_id, alive.job.user_id, 3, 50, run=alive.job.run_id)
    await store.apply_events([Change(heartbeat, update_for(heartbeat))])

    assert await swept.sweep_orphaned_runs() == 0  # within the grace
    await asyncio.sleep(0.4)
    assert await swept.sweep_orphaned_runs() == 1
    assert await swept.sweep_orphaned_runs() == 0  # once

    assert await kinds(store, orphan) == ["job.queued", "job.started", "job.queued"]
    assert await kinds(store, alive) == ["job.queued", "job.started", "job.progress"]
