"""The worker consumer when the broker lost its log under it (a real broker killed and started
again empty): after `start_over` it reads the new log from its start and commits offsets of the
new log, never the old one's."""

from __future__ import annotations

import uuid

import pytest
from aiokafka import AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from darkroom.runtime.kafka import ensure_topics
from darkroom.runtime.kafka_connection import client_options
from darkroom.runtime.settings import KafkaSettings
from darkroom.runtime.worker import ConsumerOptions, JobConsumer
from tests.fixtures.kafka import TansuProcess, own_broker_only
from tests.integration.helpers import wait_until

pytestmark = [
    pytest.mark.integration,
    pytest.mark.timeout(90),
    own_broker_only,
]


async def produce(bootstrap: str, tp: TopicPartition, values: list[bytes]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        for value in values:
            await producer.send_and_wait(tp.topic, value, key=value, partition=tp.partition)
    finally:
        await producer.stop()


async def committed(bootstrap: str, group: str, tp: TopicPartition) -> int:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        offsets = await admin.list_consumer_group_offsets(group, partitions=[tp])
    finally:
        await admin.close()
    meta = offsets.get(tp)
    return -1 if meta is None else meta.offset


async def test_after_start_over_the_new_log_is_read_from_its_start_and_committed_as_such(
    broker: TansuProcess,
) -> None:
    topic, group = f"restart-{uuid.uuid4().hex[:8]}", f"g-{uuid.uuid4().hex[:8]}"
    settings = KafkaSettings(kafka_bootstrap_servers=broker.bootstrap, kafka_partitions=1)
    tp = TopicPartition(topic, 0)
    handled: list[bytes] = []

    async def handle(record: ConsumerRecord) -> None:
        handled.append(record.value or b"")

    await ensure_topics(settings, [topic])
    options = ConsumerOptions(
        client_options(settings), {topic: 1}, group, group, session_timeout_ms=2000
    )
    consumer = JobConsumer(options, handle)
    await consumer.start()
    try:
        await produce(broker.bootstrap, tp, [b"old-%d" % i for i in range(5)])

        async def old_log_committed() -> bool:
            return await committed(broker.bootstrap, group, tp) == 5

        await wait_until(old_log_committed, "the old log committed")

        broker.stop(kill=True)
        broker.start()
        await ensure_topics(settings, [topic])  # what the broker watch does first
        await consumer.start_over()  # then this reaction
        new = [b"new-%d" % i for i in range(3)]  # a log shorter than the old position
        await produce(broker.bootstrap, tp, new)

        async def new_log_committed() -> bool:
            return await committed(broker.bootstrap, group, tp) == 3

        await wait_until(new_log_committed, "the new log committed to its end", 30)
    finally:
        await consumer.stop()

    assert set(new) <= set(handled)
    assert await committed(broker.bootstrap, group, tp) == 3
