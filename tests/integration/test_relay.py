"""The outbox relay against Tansu, and PostgreSQL LISTEN/NOTIFY waking it."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from darkroom.contracts.api import CreateImageJob
from darkroom.contracts.events import JobQueued, parse_event
from darkroom.contracts.requests import ImageJobRequested
from darkroom.gateway.relay import OutboxRelay
from darkroom.gateway.settings import RelaySettings
from darkroom.gateway.submit import submit_image_job
from darkroom.runtime.auth import Principal
from darkroom.runtime.db import JobStore, open_database
from darkroom.runtime.db.migrate import upgrade
from darkroom.runtime.db.notify import outbox_notifications
from darkroom.runtime.kafka import ensure_topics, make_producer
from darkroom.runtime.settings import DatabaseSettings
from tests.fixtures.db import sqlite_url
from tests.integration.helpers import new_job, random_user, read_topic

pytestmark = pytest.mark.integration


@pytest.fixture
async def relay_settings(tmp_path: Path, kafka_bootstrap: str, topic_suffix: str) -> RelaySettings:
    settings = RelaySettings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=sqlite_url(tmp_path / "relay.db"),
        kafka_bootstrap_servers=kafka_bootstrap,
        kafka_topic_suffix=topic_suffix,
        kafka_partitions=3,
    )
    await upgrade(settings)
    await ensure_topics(settings, settings.topics.all_topics())
    return settings


@pytest.fixture
async def sqlite_store(relay_settings: RelaySettings) -> AsyncIterator[JobStore]:
    db = open_database(relay_settings)
    yield JobStore(db)
    await db.dispose()


async def _drain(settings: RelaySettings, store: JobStore, batch_size: int = 500) -> int:
    producer = make_producer(settings, "relay-test")
    await producer.start()
    try:
        return await OutboxRelay(store, producer, settings.topics.events, batch_size).drain()
    finally:
        await producer.stop()


async def _submit(store: JobStore, settings: RelaySettings, user: str) -> uuid.UUID:
    body = CreateImageJob(prompt="a quiet harbour", width=256, height=256)
    accepted = await submit_image_job(
        body, Principal(user, "api"), store, settings.topics, model="procedural"
    )
    return accepted.job_id


async def test_drain_publishes_every_outbox_row_then_the_outbox_is_empty(
    relay_settings: RelaySettings, sqlite_store: JobStore
) -> None:
    user = random_user()
    job_ids = {await _submit(sqlite_store, relay_settings, user) for _ in range(3)}

    assert await _drain(relay_settings, sqlite_store) == 6
    assert await sqlite_store.outbox.count() == 0

    topics, bootstrap = relay_settings.topics, relay_settings.kafka_bootstrap_servers
    events = await read_topic(bootstrap, topics.events, expected=3)
    requests = await read_topic(bootstrap, topics.image.requested, expected=3)
    assert len(events) == len(requests) == 3
    for record in events:
        event = parse_event(record.value or b"")
        assert isinstance(event, JobQueued) and event.user_id == user
        assert record.key == str(event.job_id).encode()
        assert dict(record.headers)["event-type"] == b"job.queued"
    for record in requests:
        request = ImageJobRequested.model_validate_json(record.value or b"")
        assert record.key == str(request.job_id).encode()
        assert (request.attempt, request.first_seq) == (1, 2)
    assert {uuid.UUID((r.key or b"").decode()) for r in events} == job_ids
    assert {uuid.UUID((r.key or b"").decode()) for r in requests} == job_ids


async def test_drain_takes_several_rounds_when_the_outbox_is_bigger_than_a_batch(
    relay_settings: RelaySettings, sqlite_store: JobStore
) -> None:
    user = random_user()
    job_ids = {await _submit(sqlite_store, relay_settings, user) for _ in range(4)}

    assert await _drain(relay_settings, sqlite_store, batch_size=3) == 8
    assert await sqlite_store.outbox.count() == 0
    events = await read_topic(
        relay_settings.kafka_bootstrap_servers, relay_settings.topics.events, expected=4
    )
    assert {parse_event(r.value or b"").job_id for r in events} == job_ids


async def test_draining_an_empty_outbox_publishes_nothing(
    relay_settings: RelaySettings, sqlite_store: JobStore
) -> None:
    assert await _drain(relay_settings, sqlite_store) == 0


async def test_creating_a_job_on_postgresql_notifies_the_outbox_listener(
    postgres_url: str,
) -> None:
    db = open_database(DatabaseSettings(database_url=postgres_url))
    store, woken = JobStore(db), asyncio.Event()
    try:
        async with outbox_notifications(db, woken.set) as listening:
            assert listening is True
            plan = new_job(random_user())
            await store.create_jobs([plan])
            await asyncio.wait_for(woken.wait(), timeout=10)
        rows = await store.outbox.fetch(100_000)
        await store.outbox.delete([r.id for r in rows if r.key == str(plan.job.job_id)])
    finally:
        await db.dispose()


async def test_a_commit_by_another_connection_wakes_the_sqlite_watch(
    sqlite_store: JobStore,
) -> None:
    woken = asyncio.Event()
    async with outbox_notifications(sqlite_store.db, woken.set) as listening:
        assert listening is True
        await asyncio.wait_for(woken.wait(), timeout=5)  # the first look always wakes
        woken.clear()
        await asyncio.sleep(0.05)
        assert not woken.is_set()  # nothing committed: no wake-up
        await sqlite_store.create_jobs([new_job(random_user())])
        await asyncio.wait_for(woken.wait(), timeout=5)
