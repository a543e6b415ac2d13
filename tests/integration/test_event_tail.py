"""The notifier's EventTail against Tansu: it starts where the projector's group has got to."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from darkroom.contracts.events import JobEvent, encode_event
from darkroom.notifier.hub import Hub, Subscription
from darkroom.notifier.settings import NotifierSettings
from darkroom.notifier.tail import EventTail
from darkroom.runtime.kafka import ensure_topics
from tests.integration.helpers import DEADLINE_S, progress, queued, random_user

pytestmark = pytest.mark.integration


@pytest.fixture
async def settings(kafka_bootstrap: str, topic_suffix: str) -> NotifierSettings:
    settings = NotifierSettings(
        _env_file=None,  # type: ignore[call-arg]
        kafka_bootstrap_servers=kafka_bootstrap,
        kafka_topic_suffix=topic_suffix,
        kafka_partitions=2,
    )
    await ensure_topics(settings, settings.topics.all_topics())
    return settings


async def _produce(settings: NotifierSettings, partition: int, *values: bytes) -> None:
    """Each value awaited on its own, so every record is its own batch (no Tansu batch quirks)."""
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap_servers)
    await producer.start()
    try:
        for value in values:
            await producer.send_and_wait(settings.topics.events, value, partition=partition)
    finally:
        await producer.stop()


async def _commit_projector_offset(settings: NotifierSettings, partition: int, offset: int) -> None:
    tp = TopicPartition(settings.topics.events, partition)
    consumer = AIOKafkaConsumer(
        bootstrap_servers=settings.kafka_bootstrap_servers,
        group_id=settings.topics.projector_group,
        enable_auto_commit=False,
    )
    await consumer.start()
    try:
        consumer.assign([tp])
        await consumer.commit({tp: offset})
    finally:
        await consumer.stop()


async def _committed(settings: NotifierSettings, tp: TopicPartition) -> int | None:
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap_servers)
    await admin.start()
    try:
        offsets = await admin.list_consumer_group_offsets(
            settings.topics.projector_group, partitions=[tp]
        )
    finally:
        await admin.close()
    meta = offsets.get(tp)
    return meta.offset if meta is not None else None


@contextlib.asynccontextmanager
async def _tailing(settings: NotifierSettings, hub: Hub) -> AsyncIterator[asyncio.Task[None]]:
    tail = EventTail(settings, hub)
    await tail.start()
    task = asyncio.create_task(tail.run(), name="event-tail-under-test")
    try:
        yield task
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await tail.stop()


async def _receive(sub: Subscription, count: int) -> list[JobEvent]:
    """The first `count` events, then whatever else is already queued (nothing, if all is well)."""
    events = [await asyncio.wait_for(sub.next(), DEADLINE_S) for _ in range(count)]
    while not sub.queue.empty():
        events.append(sub.queue.get_nowait())
    return events


def _events(user: str, count: int) -> list[JobEvent]:
    job_id = uuid.uuid4()
    return [queued(job_id, user)] + [
        progress(job_id, user, seq, percent=seq) for seq in range(2, count + 1)
    ]


async def test_the_tail_starts_at_the_projectors_committed_offsets(
    settings: NotifierSettings,
) -> None:
    user = random_user()
    committed, uncommitted = _events(user, 6), _events(user, 3)
    await _produce(settings, 0, *map(encode_event, committed))
    await _produce(settings, 1, *map(encode_event, uncommitted))
    await _commit_projector_offset(settings, partition=0, offset=4)
    assert await _committed(settings, TopicPartition(settings.topics.events, 0)) == 4

    hub = Hub()
    with hub.user(user) as sub:
        async with _tailing(settings, hub):
            received = await _receive(sub, count=2 + 3)

    from_p0 = [e for e in received if e.job_id == committed[0].job_id]
    from_p1 = [e for e in received if e.job_id == uncommitted[0].job_id]
    assert from_p0 == committed[4:]  # offsets 4 and 5 only: the projector stored 0-3
    assert from_p1 == uncommitted  # no commit: from the beginning
    assert len(received) == 5


async def test_the_tail_skips_malformed_messages_and_keeps_going(
    settings: NotifierSettings,
) -> None:
    user = random_user()
    first, later = _events(user, 2), _events(user, 2)
    junk = [b"not json at all", b'{"type": "job.exploded"}', b"", b'{"type": "job.queued"}']
    await _produce(settings, 0, encode_event(first[0]), *junk, encode_event(first[1]))

    hub = Hub()
    with hub.user(user) as sub:
        async with _tailing(settings, hub) as task:
            assert await _receive(sub, count=2) == first
            await _produce(settings, 1, b"\xff\xfe garbage", *map(encode_event, later))
            assert await _receive(sub, count=2) == later
            assert not task.done()


async def test_a_new_job_stream_finds_the_tailed_events_in_the_hubs_memory(
    settings: NotifierSettings,
) -> None:
    user = random_user()
    events = _events(user, 3)
    await _produce(settings, 1, *map(encode_event, events))

    hub = Hub()
    with hub.user(user) as sub:
        async with _tailing(settings, hub):
            await _receive(sub, count=3)
    with hub.job(events[0].job_id) as job_sub:
        assert job_sub.recent == events
