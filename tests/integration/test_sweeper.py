"""The sweeper and its lease against real SQLite and PostgreSQL databases."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import pytest

from darkroom.contracts.requests import ImageJobRequested
from darkroom.contracts.topics import Topics
from darkroom.gateway.settings import SweeperSettings
from darkroom.gateway.sweeper import sweep_once
from darkroom.runtime.db import Database, JobStore
from darkroom.runtime.db.lease import acquire_lease, lease_holder
from tests.integration.helpers import new_job, random_user

pytestmark = pytest.mark.integration

TOPICS = Topics()


async def test_one_holder_at_a_time_and_another_takes_over_once_it_expires(
    database: Database,
) -> None:
    name = f"lease-{uuid.uuid4().hex[:6]}"
    short = timedelta(milliseconds=300)

    assert await acquire_lease(database, name, "a", short)
    assert not await acquire_lease(database, name, "b", short)
    assert await acquire_lease(database, name, "a", short)  # the holder renews
    assert await lease_holder(database, name) == "a"
    await asyncio.sleep(0.4)
    assert await acquire_lease(database, name, "b", short)
    assert not await acquire_lease(database, name, "a", short)


async def test_many_replicas_racing_for_a_free_lease_get_exactly_one_holder(
    database: Database,
) -> None:
    name = f"lease-{uuid.uuid4().hex[:6]}"
    results = await asyncio.gather(
        *(acquire_lease(database, name, f"r{n}", timedelta(seconds=5)) for n in range(8))
    )
    assert results.count(True) == 1


async def test_a_queued_job_with_no_news_is_queued_again_once_with_a_new_request(
    store: JobStore,
) -> None:
    job, events, _ = new_job(random_user())  # stored with no outbox message: the request is "lost"
    await store.create_job(job, events, [])
    # The session's database holds other tests' jobs too: sweep them all, judge this one.
    settings = SweeperSettings(sweeper_queued_after_s=0.2, sweeper_batch_size=100_000)
    await asyncio.sleep(0.3)

    assert await sweep_once(store, TOPICS, settings) >= 1
    await sweep_once(store, TOPICS, settings)  # it has news now: not swept again (checked below)

    record = await store.get_job(job.job_id)
    assert record is not None and record.status == "queued" and record.last_seq == 2
    assert [e.type for e in await store.events_for(job.job_id)] == ["job.queued", "job.queued"]
    rows = [r for r in await store.fetch_outbox(1000) if r.key == str(job.job_id)]
    assert [r.topic for r in rows] == [TOPICS.events, TOPICS.image.requested]
    request = ImageJobRequested.model_validate_json(rows[1].payload)
    assert (request.attempt, request.first_seq) == (1, 3)
    await store.delete_outbox([r.id for r in rows])


async def test_a_recent_job_is_left_alone(store: JobStore) -> None:
    job, events, _ = new_job(random_user())
    await store.create_job(job, events, [])
    await sweep_once(store, TOPICS, SweeperSettings(sweeper_queued_after_s=60))
    record = await store.get_job(job.job_id)
    assert record is not None and record.last_seq == 1
