"""The outbox relay: publishes committed outbox rows to Kafka, then forgets them."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from aiokafka import AIOKafkaProducer
from tenacity import AsyncRetrying, before_sleep_log, wait_exponential_jitter

from darkroom.runtime.db import JobStore, OutboxRow

logger = logging.getLogger(__name__)


class OutboxRelay:
    """Moves outbox rows to Kafka: woken at once by new jobs, and sweeping on an interval.

    A row is deleted only after the broker acknowledged it, so a crash between publish and
    delete publishes it again: consumers deduplicate by event id (events) and workers re-run
    deterministically (requests). Within a round, events are acknowledged before requests are
    sent, so a job's `job.queued` is always on the log before any worker can start it.
    """

    def __init__(
        self, store: JobStore, producer: AIOKafkaProducer, events_topic: str, batch_size: int
    ) -> None:
        self.store = store
        self.producer = producer
        self.events_topic = events_topic
        self.batch_size = batch_size
        self.wakeup = asyncio.Event()

    async def publish_round(self) -> int:
        """Publish up to one batch; returns how many rows were published."""
        rows = await self.store.outbox.fetch(self.batch_size)
        if not rows:
            return 0
        await self._send([r for r in rows if r.topic == self.events_topic])
        await self._send([r for r in rows if r.topic != self.events_topic])
        await self.store.outbox.delete([r.id for r in rows])
        logger.debug("relayed %d outbox rows", len(rows))
        return len(rows)

    async def _send(self, rows: list[OutboxRow]) -> None:
        futures = [
            await self.producer.send(
                r.topic,
                r.payload,
                key=r.key.encode(),
                headers=[(k, v.encode()) for k, v in r.headers.items()],
            )
            for r in rows
        ]
        await asyncio.gather(*futures)

    async def drain(self) -> int:
        """Publish until the outbox is empty."""
        total = 0
        while published := await self.publish_round():
            total += published
        return total

    async def run(self, interval_s: float) -> None:
        """Drain whenever woken or every `interval_s`, until cancelled; back off while Kafka is away."""
        while True:
            async for attempt in AsyncRetrying(
                wait=wait_exponential_jitter(initial=0.1, max=5),
                before_sleep=before_sleep_log(logger, logging.WARNING, exc_info=True),
            ):
                with attempt:
                    await self.drain()
            self.wakeup.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wakeup.wait(), interval_s)
