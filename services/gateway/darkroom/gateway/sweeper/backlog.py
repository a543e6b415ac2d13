"""Which requests still wait in Kafka: the sweeper's way to tell a waiting job from a lost one.

A request waits while it sits at or after its consumer group's committed offset: the workers
commit a request only once its outcome is acknowledged, and the retry scheduler a retry only
once it moved it on. So the requests waiting for a job type are the records from each group's
committed offset to the end of its topics (the three request topics for the workers, the retry
topic for the scheduler). They are read here without a group, moving nobody's offsets.

The ends are found by reading (each fetch answers the partition's high watermark), which is
right on Apache Kafka and on the embedded broker alike (whose ListOffsets answers are wrong,
docs/kafka.md). A group whose committed offset lies past the end of the log (a broker that
lost its log) will not read what is there now: nothing in that partition counts as waiting.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import OffsetOutOfRangeError

from darkroom.contracts.jobtypes import JobType
from darkroom.contracts.topics import Topics
from darkroom.runtime.kafka import topic_partitions
from darkroom.runtime.kafka_connection import client_options
from darkroom.runtime.settings import KafkaSettings

logger = logging.getLogger(__name__)


class BacklogUnknown(Exception):
    """The request topics could not be read to their end in time (broker away or too slow)."""


@dataclass(frozen=True)
class GroupTopics:
    group: str
    topics: tuple[str, ...]


def groups_of(topics: Topics, job_types: Iterable[JobType]) -> list[GroupTopics]:
    """The consumer groups that take requests of these job types, and their topics."""
    groups = []
    for job_type in sorted(set(job_types)):
        names = topics.of(job_type)
        groups.append(GroupTopics(names.worker_group, tuple(names.by_priority().values())))
        groups.append(GroupTopics(names.retry_group, (names.retry,)))
    return groups


class RequestBacklog:
    """Reads the unconsumed part of the request and retry topics."""

    def __init__(self, settings: KafkaSettings, timeout_s: float) -> None:
        self.settings, self.timeout_s = settings, timeout_s

    async def waiting(self, groups: list[GroupTopics]) -> set[uuid.UUID]:
        """The ids of every request that waits for a worker (or a retry that waits for its
        time), over these groups' topics."""
        consumer = AIOKafkaConsumer(
            **client_options(self.settings),
            group_id=None,
            enable_auto_commit=False,
            auto_offset_reset="none",
            fetch_max_wait_ms=self.settings.kafka_fetch_max_wait_ms,
        )
        await consumer.start()
        try:
            starts = await self._starts(consumer, groups)
            async with asyncio.timeout(self.timeout_s):
                return await _read_to_end(consumer, starts)
        except TimeoutError as exc:
            raise BacklogUnknown(
                f"request topics not read to their end in {self.timeout_s:g} s"
            ) from exc
        finally:
            await consumer.stop()

    async def _starts(
        self, consumer: AIOKafkaConsumer, groups: list[GroupTopics]
    ) -> dict[TopicPartition, int]:
        """Each partition's committed offset (0 where the group has committed nothing)."""
        admin = AIOKafkaAdminClient(**client_options(self.settings))
        await admin.start()
        try:
            starts: dict[TopicPartition, int] = {}
            for group in groups:
                tps = [tp for topic in group.topics for tp in topic_partitions(consumer, topic)]
                offsets = await admin.list_consumer_group_offsets(group.group, partitions=tps)
                for tp in tps:
                    meta = offsets.get(tp)
                    starts[tp] = meta.offset if meta is not None and meta.offset >= 0 else 0
            return starts
        finally:
            await admin.close()


async def _read_to_end(
    consumer: AIOKafkaConsumer, starts: dict[TopicPartition, int]
) -> set[uuid.UUID]:
    consumer.assign(list(starts))
    for tp, offset in starts.items():
        consumer.seek(tp, offset)
    found: set[uuid.UUID] = set()
    pending = set(starts)
    while pending:
        try:
            batches = await consumer.getmany(*pending, timeout_ms=200, max_records=2000)
        except OffsetOutOfRangeError as exc:  # committed past the end: the log was lost
            _finish(consumer, pending, set(exc.args[0]) if exc.args else set(pending))
            continue
        for records in batches.values():
            found.update(filter(None, map(_request_id, records)))
        ended = {
            tp
            for tp in pending
            if (end := consumer.highwater(tp)) is not None and await consumer.position(tp) >= end
        }
        _finish(consumer, pending, ended)
    return found


def _finish(
    consumer: AIOKafkaConsumer, pending: set[TopicPartition], done: set[TopicPartition]
) -> None:
    done &= pending
    if done:
        consumer.pause(*done)
        pending -= done


def _request_id(record: ConsumerRecord) -> uuid.UUID | None:
    """The request id a record carries (its header, else its body); None if it has none."""
    for name, value in record.headers or ():
        if name == "request-id":
            return _uuid(value.decode(errors="replace"))
    try:
        body = json.loads(record.value or b"")
    except ValueError:
        return None
    return _uuid(body.get("request_id")) if isinstance(body, dict) else None


def _uuid(value: object) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None
