"""Reading and claiming the broker's incarnation (the first record of the incarnation topic).

The topic has one partition and keeps its records forever, so on Apache Kafka the first record
never changes; the embedded broker with memory storage loses it with everything else on a
restart. Reading is by offset (seek to 0, one fetch), right on both.
"""

from __future__ import annotations

import asyncio
import uuid

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from pydantic import ValidationError

from darkroom.contracts.envelope import utcnow
from darkroom.contracts.incarnation import BrokerIncarnation
from darkroom.runtime.kafka import ensure_topics
from darkroom.runtime.kafka_connection import client_options
from darkroom.runtime.settings import KafkaSettings


class IncarnationUnknown(Exception):
    """The incarnation topic could not be read in time (the broker is away or just restarted)."""


class IncarnationReader:
    """Reads the first record of the incarnation topic, over one group-less consumer."""

    def __init__(self, settings: KafkaSettings, timeout_s: float) -> None:
        self.partition = TopicPartition(settings.topics.incarnation, 0)
        self.timeout_s = timeout_s
        self.connection = client_options(settings)
        self._consumer: AIOKafkaConsumer | None = None

    @property
    def consumer(self) -> AIOKafkaConsumer:
        if self._consumer is None:
            raise IncarnationUnknown("the incarnation reader is not started")
        return self._consumer

    async def start(self) -> None:
        """Connect (made here: aiokafka's clients belong to the running loop); stopped on failure."""
        consumer = self._consumer = AIOKafkaConsumer(
            **self.connection,
            group_id=None,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            fetch_max_wait_ms=100,
        )
        try:
            await consumer.start()
        except BaseException:
            await self.stop()
            raise
        consumer.assign([self.partition])

    async def stop(self) -> None:
        consumer, self._consumer = self._consumer, None
        if consumer is not None:
            await consumer.stop()

    async def read(self) -> uuid.UUID | None:
        """The incarnation, None if the topic is empty; IncarnationUnknown if it cannot be read
        (a missing topic, an unreachable broker, a record that is not an incarnation)."""
        tp = self.partition
        self.consumer.seek(tp, 0)
        try:
            async with asyncio.timeout(self.timeout_s):
                while True:
                    batch = await self.consumer.getmany(tp, timeout_ms=100, max_records=1)
                    if records := batch.get(tp):
                        return _parse(records[0].value)
                    if self.consumer.highwater(tp) == 0 and await self.consumer.position(tp) == 0:
                        return None
        except TimeoutError as exc:
            raise IncarnationUnknown(f"{tp.topic} not read in {self.timeout_s:g} s") from exc


def _parse(value: bytes | None) -> uuid.UUID:
    try:
        return BrokerIncarnation.model_validate_json(value or b"").incarnation
    except ValidationError as exc:
        raise IncarnationUnknown(f"the first incarnation record is not one: {exc}") from exc


async def claim_incarnation(
    settings: KafkaSettings, reader: IncarnationReader, claimed_by: str
) -> uuid.UUID:
    """The broker's incarnation: the first record of the topic, written by this process if the
    topic is empty. When several processes claim at once, the first record written wins."""
    await ensure_topics(settings, [settings.topics.incarnation])  # one partition, forever
    found = await reader.read()
    if found is not None:
        return found
    record = BrokerIncarnation(incarnation=uuid.uuid4(), claimed_by=claimed_by, claimed_at=utcnow())
    producer = AIOKafkaProducer(**client_options(settings), acks="all")
    try:
        await producer.start()
        await producer.send_and_wait(
            reader.partition.topic, record.model_dump_json().encode(), partition=0
        )
    finally:
        await producer.stop()
    first = await reader.read()
    if first is None:
        raise IncarnationUnknown("the incarnation written is not readable")
    return first
