"""Control messages reaching workers: every worker process reads `jobs.control` and knows which
jobs to stop (if it runs them) or skip (if it reaches their request later): cancelled jobs, and
runs the sweeper superseded.

Each process reads every partition from the beginning, with no group: cancels are few, and a
restarted worker must know the cancels of requests it has yet to read. (Tansu cannot start a
consumer at the end of a topic; on Kafka, a compacted control topic keeps this read short.)
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections import OrderedDict
from typing import Any, assert_never

from aiokafka import AIOKafkaConsumer
from pydantic import ValidationError

from darkroom.contracts.control import (
    CancelRequested,
    ControlMessage,
    RunSuperseded,
    control_adapter,
)
from darkroom.runtime.kafka import seek_log_start, topic_partitions
from darkroom.runtime.kafka_connection import KafkaConnection

logger = logging.getLogger(__name__)

REMEMBERED = 100_000  # cancels kept in memory per worker process (the oldest are forgotten)


class CancelRegistry:
    """The cancels and superseded runs this process has read, and a wake-up for each running
    attempt: set when its job is cancelled or its run superseded."""

    def __init__(self, capacity: int = REMEMBERED) -> None:
        self._cancels: OrderedDict[uuid.UUID, CancelRequested] = OrderedDict()
        self._superseded: OrderedDict[uuid.UUID, RunSuperseded] = OrderedDict()
        # Per job, per run (request): two runs of one job can share a process (a stalled one and
        # the run that replaced it), each with its own wake-up.
        self._watchers: dict[uuid.UUID, dict[uuid.UUID | None, asyncio.Event]] = {}
        self._capacity = capacity

    def add(self, message: ControlMessage) -> None:
        match message:
            case CancelRequested():
                _remember(self._cancels, message.job_id, message, self._capacity)
                self._wake(message.job_id, None)
            case RunSuperseded():
                key = message.superseded_request_id
                _remember(self._superseded, key, message, self._capacity)
                self._wake(message.job_id, key)
            case _:
                assert_never(message)

    def _wake(self, job_id: uuid.UUID, run: uuid.UUID | None) -> None:
        """Wake every run of the job (a cancel), or the superseded run only."""
        for watched, watcher in self._watchers.get(job_id, {}).items():
            if run is None or watched == run:
                watcher.set()

    def get(self, job_id: uuid.UUID) -> CancelRequested | None:
        return self._cancels.get(job_id)

    def superseded(self, request_id: uuid.UUID) -> RunSuperseded | None:
        """Whether the run of this request was replaced by another."""
        return self._superseded.get(request_id)

    def watch(self, job_id: uuid.UUID, request_id: uuid.UUID | None = None) -> asyncio.Event:
        """An event set when the job is cancelled or this run superseded (at once if it was)."""
        watcher = asyncio.Event()
        self._watchers.setdefault(job_id, {})[request_id] = watcher
        if job_id in self._cancels or (request_id is not None and request_id in self._superseded):
            watcher.set()
        return watcher

    def unwatch(self, job_id: uuid.UUID, request_id: uuid.UUID | None = None) -> None:
        runs = self._watchers.get(job_id, {})
        runs.pop(request_id, None)
        if not runs:
            self._watchers.pop(job_id, None)


def _remember(
    memory: OrderedDict[uuid.UUID, Any], key: uuid.UUID, value: object, capacity: int
) -> None:
    memory[key] = value
    memory.move_to_end(key)
    while len(memory) > capacity:
        memory.popitem(last=False)


class ControlTail:
    """Reads the control topic into a registry, from the beginning of every partition."""

    def __init__(
        self,
        connection: KafkaConnection,
        topic: str,
        registry: CancelRegistry,
        fetch_max_wait_ms: int,
    ) -> None:
        self.connection, self.topic, self.registry = connection, topic, registry
        self.fetch_max_wait_ms = fetch_max_wait_ms
        self._consumer: AIOKafkaConsumer | None = None
        self._task: asyncio.Task[None] | None = None

    @property
    def running(self) -> int:
        return 0

    @property
    def alive(self) -> bool:
        return self._task is not None and not self._task.done()

    async def start(self) -> None:
        self._consumer = consumer = AIOKafkaConsumer(
            **self.connection,
            group_id=None,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            fetch_max_wait_ms=self.fetch_max_wait_ms,
        )
        await consumer.start()
        partitions = topic_partitions(consumer, self.topic)
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        self._task = asyncio.create_task(self._run(consumer), name="control-tail")

    async def start_over(self) -> None:
        """The broker lost its log: read the new control topic from its beginning (the cancels
        already read stay known)."""
        if self._consumer is None:
            return
        partitions = topic_partitions(self._consumer, self.topic)
        self._consumer.assign(partitions)
        seek_log_start(self._consumer, partitions)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        if self._consumer is not None:
            await self._consumer.stop()

    async def _run(self, consumer: AIOKafkaConsumer) -> None:
        while True:
            batches = await consumer.getmany(timeout_ms=1000, max_records=500)
            for records in batches.values():
                for record in records:
                    try:
                        self.registry.add(control_adapter.validate_json(record.value or b""))
                    except ValidationError as exc:
                        logger.error("skipping malformed control message: %s", exc.errors()[:3])
