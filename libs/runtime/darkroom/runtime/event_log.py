"""A consumer group's batches of the events topic, following the broker's log: what the projector
and the webhook sender read.

Batches are taken in order; one that fails is read again, never skipped (NACK_ON_ERROR). After
the broker lost its log (docs/kafka.md), a batch fetched from the new log at the old log's
positions is dropped and the group starts over from the new log's start, so no event of the new
log is skipped; a batch whose log cannot be told now is read again later.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from faststream.kafka.subscriber.usecase import BatchSubscriber

from darkroom.runtime.broker_watch import BrokerNotReady, BrokerWatch, LogCheck, Watching
from darkroom.runtime.kafka import LogStartOnAssign, raw_batch
from darkroom.runtime.readiness import Check
from darkroom.runtime.settings import KafkaSettings

logger = logging.getLogger(__name__)

# Takes one batch of raw events (and may nack it to have it read again).
Take = Callable[[list[bytes], KafkaMessage], Awaitable[None]]


@dataclass(frozen=True)
class FollowedLog:
    subscriber: BatchSubscriber
    watching: Watching  # its start and stop: the process's hooks (start before any batch)

    def same_log(self) -> Check:
        """Ready while the broker answers with the log this process reads."""

        async def check() -> str | None:
            try:
                await self.watching.watch.check()
            except BrokerNotReady as exc:
                return str(exc)
            return None

        return check


def follow_events(
    broker: KafkaBroker, settings: KafkaSettings, name: str, group: str, batch_size: int, take: Take
) -> FollowedLog:
    """Subscribe `take` to the events topic in `group`, `batch_size` events at most a batch."""
    watch, log_start = BrokerWatch(settings, name), LogStartOnAssign()
    subscriber = broker.subscriber(
        settings.topics.events,
        group_id=group,
        batch=True,
        max_records=batch_size,
        batch_timeout_ms=20,
        auto_offset_reset="earliest",
        ack_policy=AckPolicy.NACK_ON_ERROR,
        session_timeout_ms=settings.kafka_session_timeout_ms,
        fetch_max_wait_ms=settings.kafka_fetch_max_wait_ms,
        decoder=raw_batch,
        listener=log_start,
    )

    @subscriber
    async def on_events(payloads: list[bytes], message: KafkaMessage) -> None:
        match await watch.log_of_fetch():
            case LogCheck.SAME:
                await take(payloads, message)
            case LogCheck.OTHER:  # a new log read at the old one's positions: dropped, the
                logger.info("dropped %d events of a new log", len(payloads))  # take-in rereads
            case LogCheck.UNKNOWN:  # read the batch again later
                await message.nack()

    async def start_over() -> None:  # the broker lost its log: read the new one from its start
        await log_start.start_over(subscriber.consumer)

    watch.react(start_over)
    return FollowedLog(subscriber, Watching(watch))
