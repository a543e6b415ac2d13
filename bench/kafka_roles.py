"""The raw-aiokafka roles of the floor benchmark: topics, producers, a worker and a listener.

They copy the shapes of Darkroom's messages and the settings of its clients (acks=all, 256 KiB
batches, session timeout 6 s, commit after the outcome event is acknowledged) with nothing else
in between: no HTTP, no database, no SSE, no validation models.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Iterable, Sequence
from typing import TypeVar

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRebalanceListener, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

logger = logging.getLogger(__name__)

T = TypeVar("T")
PARTITIONS = 6
MAX_BATCH_BYTES = 256 * 1024
SESSION_TIMEOUT_MS = 6000


async def create_topics(bootstrap: str, names: Iterable[str]) -> None:
    """Create fresh topics of 6 partitions; any error code is fatal (names are uuid-suffixed)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=10_000)
    await admin.start()
    try:
        response = await admin.create_topics([NewTopic(n, PARTITIONS, 1) for n in names])
        for topic, code, *_ in getattr(response, "topic_errors", ()):
            if code != 0:
                raise RuntimeError(f"cannot create topic {topic}: error code {code}")
    finally:
        await admin.close()


async def delete_topics(bootstrap: str, names: list[str]) -> None:
    """Best effort: Tansu's memory storage never shrinks, but fewer topics keep metadata small."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=10_000)
    try:
        await admin.start()
        await admin.delete_topics(names)
    except Exception as exc:  # cleanup must not hide the measured result
        logger.warning("could not delete topics %s: %s", names, exc)
    finally:
        await admin.close()


def make_producer(bootstrap: str, linger_ms: int) -> AIOKafkaProducer:
    """Darkroom's producer settings; not idempotent (Tansu rejects aiokafka's InitProducerId)."""
    return AIOKafkaProducer(
        bootstrap_servers=bootstrap, acks="all", linger_ms=linger_ms, max_batch_size=MAX_BATCH_BYTES
    )


def padded_json(fields: dict[str, object], size: int) -> bytes:
    """`fields` as JSON with a filler field, so the value is `size` bytes (or a little more)."""
    bare = json.dumps({**fields, "pad": ""}, separators=(",", ":")).encode()
    fields["pad"] = "x" * max(0, size - len(bare))
    return json.dumps(fields, separators=(",", ":")).encode()


def request_value(job_id: str, size: int) -> bytes:
    """An image request about the size of the gateway's (prompt, options, ids)."""
    fields = {"type": "image.requested", "job_id": job_id, "user_id": "bench", "width": 64}
    return padded_json({**fields, "height": 64, "seed": 7, "submitted_at": time.time()}, size)


def completed_value(request: bytes, size: int) -> bytes:
    """The completed event of a request: parses the request, as a real worker would."""
    job_id = json.loads(request)["job_id"]
    fields = {"type": "job.completed", "job_id": job_id, "attempt": 1, "asset": f"jobs/{job_id}"}
    return padded_json({**fields, "at": time.time()}, size)


async def wait_or_fail(
    aw: Awaitable[T], guards: Sequence[asyncio.Task], limit_s: float, what: str
) -> T:
    """Await `aw` within `limit_s` s; raise at once if a background role task stops first."""
    main = asyncio.ensure_future(aw)
    done, _ = await asyncio.wait(
        [main, *guards], timeout=limit_s, return_when=asyncio.FIRST_COMPLETED
    )
    if main in done:
        return main.result()
    main.cancel()
    for task in guards:
        if task in done:
            cause = None if task.cancelled() else task.exception()
            raise RuntimeError(f"{what}: role {task.get_name()} stopped") from cause
    raise TimeoutError(f"{what}: not done within {limit_s:g} s")


class Listener:
    """Reads the events topic without a group (as the notifier does) and notes when keys arrive."""

    def __init__(self, bootstrap: str, topic: str, fetch_max_wait_ms: int) -> None:
        self.topic = topic
        self.consumer = AIOKafkaConsumer(
            bootstrap_servers=bootstrap,
            group_id=None,
            enable_auto_commit=False,
            fetch_max_wait_ms=fetch_max_wait_ms,
        )
        self.seen: set[bytes] = set()
        self.waiters: dict[bytes, asyncio.Future[float]] = {}
        self.target = 0
        self.reached = asyncio.Event()
        self.reached_at = 0.0

    async def start(self) -> None:
        """Assign every partition and read from the beginning (never seek_to_end on Tansu)."""
        await self.consumer.start()
        partitions = [TopicPartition(self.topic, p) for p in range(PARTITIONS)]
        self.consumer.assign(partitions)
        await self.consumer.seek_to_beginning(*partitions)

    def expect(self, key: bytes) -> asyncio.Future[float]:
        """A future resolved with the perf_counter time at which `key` is seen."""
        future = asyncio.get_running_loop().create_future()
        self.waiters[key] = future
        return future

    def expect_count(self, target: int) -> None:
        self.target, self.reached_at = target, 0.0
        self.reached.clear()

    async def run(self) -> None:
        while True:
            batches = await self.consumer.getmany(timeout_ms=1000)
            now = time.perf_counter()
            for record in (r for records in batches.values() for r in records):
                if record.key is None or record.key in self.seen:
                    continue  # at-least-once: a redelivered event counts once
                self.seen.add(record.key)
                if (future := self.waiters.pop(record.key, None)) is not None:
                    future.set_result(now)
            if self.target and len(self.seen) >= self.target and not self.reached.is_set():
                self.reached_at = now
                self.reached.set()


class _Assigned(ConsumerRebalanceListener):
    def __init__(self) -> None:
        self.event = asyncio.Event()

    async def on_partitions_revoked(self, revoked: Iterable[TopicPartition]) -> None:
        self.event.clear()

    async def on_partitions_assigned(self, assigned: Iterable[TopicPartition]) -> None:
        if list(assigned):
            self.event.set()


class Worker:
    """Consumes requests in a group, emits one completed event per request, commits after the acks."""

    def __init__(
        self, bootstrap: str, topics: tuple[str, str], group: str, options: dict[str, int]
    ) -> None:
        self.requests, self.events = topics
        self.event_bytes = options["event_bytes"]
        self.producer = make_producer(bootstrap, options["linger_ms"])
        self.consumer = AIOKafkaConsumer(
            bootstrap_servers=bootstrap,
            group_id=group,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            session_timeout_ms=SESSION_TIMEOUT_MS,
            fetch_max_wait_ms=options["fetch_max_wait_ms"],
        )
        self.assigned = _Assigned()
        self.processed = 0

    async def start(self) -> None:
        await self.producer.start()
        await self.consumer.start()
        self.consumer.subscribe([self.requests], listener=self.assigned)

    async def run(self) -> None:
        """getmany, produce every event, gather the acks, then commit: at-least-once, batched."""
        while True:
            batches = await self.consumer.getmany(timeout_ms=1000)
            if not batches:
                continue
            records = [r for rs in batches.values() for r in rs]
            acks = [
                await self.producer.send(
                    self.events, completed_value(r.value, self.event_bytes), key=r.key
                )
                for r in records
            ]
            await asyncio.gather(*acks)
            await self.consumer.commit({tp: rs[-1].offset + 1 for tp, rs in batches.items()})
            self.processed += len(records)

    async def stop(self) -> None:
        await self.consumer.stop()
        await self.producer.stop()
