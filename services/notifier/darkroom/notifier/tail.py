"""Reads jobs.events into the hub: every notifier replica reads every partition, with no group."""

from __future__ import annotations

import logging

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from pydantic import ValidationError

from darkroom.contracts.events import parse_event
from darkroom.notifier.hub import Hub
from darkroom.runtime.kafka import seek_log_start, topic_partitions
from darkroom.runtime.kafka_connection import client_options
from darkroom.runtime.settings import KafkaSettings

logger = logging.getLogger(__name__)


async def projector_positions(
    settings: KafkaSettings, partitions: list[TopicPartition]
) -> dict[TopicPartition, int]:
    """Where the projector has got to on each partition (events before it are in the database).

    Starting there instead of at the end of the log is both cheaper on Tansu (whose
    `end_offsets` and `seek_to_end` are wrong) and exact: what the database does not have yet
    is read again, into the hub's memory, so a new stream misses nothing.
    """
    admin = AIOKafkaAdminClient(**client_options(settings))
    await admin.start()
    try:
        # Explicit partitions: Tansu cannot answer an OffsetFetch for all of a group's topics.
        offsets = await admin.list_consumer_group_offsets(
            settings.topics.projector_group, partitions=partitions
        )
    finally:
        await admin.close()
    return {
        tp: meta.offset for tp, meta in offsets.items() if meta is not None and meta.offset >= 0
    }


class EventTail:
    """A consumer without a group over all partitions of jobs.events, feeding the hub."""

    def __init__(self, settings: KafkaSettings, hub: Hub) -> None:
        self.settings = settings
        self.hub = hub
        self.ready = False
        self.consumer = AIOKafkaConsumer(
            **client_options(settings),
            group_id=None,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            fetch_max_wait_ms=settings.kafka_fetch_max_wait_ms,
            client_id=f"notifier-{id(self):x}",
        )

    async def start(self) -> None:
        topic = self.settings.topics.events
        await self.consumer.start()
        partitions = topic_partitions(self.consumer, topic)
        self.consumer.assign(partitions)
        positions = await projector_positions(self.settings, partitions)
        for tp in partitions:
            if tp in positions:
                self.consumer.seek(tp, positions[tp])
            else:
                await self.consumer.seek_to_beginning(tp)
        logger.info(
            "tailing %s from %s", topic, {tp.partition: positions.get(tp, 0) for tp in partitions}
        )
        self.ready = True

    async def run(self) -> None:
        """Forward events to the hub until cancelled; malformed messages are logged and skipped."""
        while True:
            batches = await self.consumer.getmany(timeout_ms=1000, max_records=1000)
            for records in batches.values():
                for record in records:
                    try:
                        self.hub.publish(parse_event(record.value or b""))
                    except ValidationError as exc:
                        logger.error(
                            "skipping malformed event at %s:%d: %s",
                            record.partition,
                            record.offset,
                            exc.errors()[:2],
                        )

    async def start_over(self) -> None:
        """The broker lost its log: tail the new one from its beginning (all of it is news)."""
        partitions = topic_partitions(self.consumer, self.settings.topics.events)
        self.consumer.assign(partitions)
        seek_log_start(self.consumer, partitions)
        self.hub.forget_recent()
        logger.info("tailing %s from the start of the new log", self.settings.topics.events)

    async def stop(self) -> None:
        self.ready = False
        await self.consumer.stop()
