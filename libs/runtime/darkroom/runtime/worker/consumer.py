"""The consumer loop every worker shares: several records at once, committed safely.

- Records are handled off the poll loop, up to `concurrency` at once (records of one partition
  included), so a long job never holds up polling, heartbeats or other partitions: the loop
  keeps calling `getmany` (partitions paused while every slot is busy), which is what keeps a
  consumer in its group past `max_poll_interval_ms`.
- A partition's offset is committed only up to its lowest unfinished record (`OffsetTracker`),
  and a record is finished only when its handler returned, that is, after its outcome was
  acknowledged by the broker: at-least-once, whatever order records finish in.
- Records with the same key (the job id) run one after the other, in offset order.
- Several topics (a job type's priorities) are read at once, each into a small waiting line of
  its own (`concurrency` records; a full line stops fetching its topic); a free slot takes the
  next record from the lines by weighted turns (`WeightedTurns`), so a backlog of one priority
  never keeps another waiting long, and high goes first.
- A handler that raises `EmitFailed` (the broker did not take the outcome) is run again with
  backoff; the record stays uncommitted meanwhile.
- `start_over()` (the broker lost its log) forgets every position and reads each partition
  from the start of the new log; records still running finish, but their offsets belong to the
  old log and are never committed.
- `stop()` stops fetching, lets running records finish within the drain timeout, commits what
  finished and leaves the group. Records cut off by the timeout stay uncommitted, so the next
  owner of their partition runs them again.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.abc import ConsumerRebalanceListener
from aiokafka.errors import KafkaError
from tenacity import AsyncRetrying, retry_if_exception_type, wait_exponential_jitter

from darkroom.runtime.kafka import EmitFailed, read_from_log_start, seek_log_start
from darkroom.runtime.worker.offsets import OffsetTracker
from darkroom.runtime.worker.options import ConsumerOptions
from darkroom.runtime.worker.priority import WeightedTurns

logger = logging.getLogger(__name__)

Handle = Callable[[ConsumerRecord], Awaitable[None]]

KEEPALIVE_S = 1.0  # while every slot is busy, poll (paused) this often to stay in the group


class _Rebalance(ConsumerRebalanceListener):
    def __init__(self, owner: JobConsumer) -> None:
        self.owner = owner

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        self.owner.drop_waiting(revoked)
        await self.owner.commit()
        self.owner.offsets.forget(list(revoked))

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        if self.owner.start_over_pending and assigned:  # could not at once: the group rebalanced
            seek_log_start(self.owner.consumer, assigned)
            self.owner.start_over_pending = False
        logger.info("assigned %s", ", ".join(f"{tp.topic}[{tp.partition}]" for tp in assigned))
        self.owner.assigned.set()


class JobConsumer:
    """Runs `handle` for every record of the topics, as a member of the group."""

    def __init__(self, options: ConsumerOptions, handle: Handle) -> None:
        self.options, self.handle = options, handle
        self.offsets: OffsetTracker[TopicPartition] = OffsetTracker()
        self.assigned = asyncio.Event()  # set once a first assignment arrived (tests, readiness)
        self._consumer: AIOKafkaConsumer | None = None  # made in start(): it needs the loop
        self._tasks: set[asyncio.Task[None]] = set()
        self._last_of_key: dict[bytes, asyncio.Task[None]] = {}
        self._slot_freed = asyncio.Event()
        self._commit_due = asyncio.Event()
        self._stopping = False
        self._loops: list[asyncio.Task[None]] = []
        self._commit_lock = asyncio.Lock()
        self._waiting: dict[str, deque[tuple[TopicPartition, ConsumerRecord]]] = {
            topic: deque() for topic in options.topics
        }
        self._turns = WeightedTurns(options.topics)
        self._generation = 0  # the log the positions belong to: one more per start_over()
        self.start_over_pending = False  # start_over() could not move the partitions at once

    @property
    def running(self) -> int:
        return len(self._tasks)

    @property
    def alive(self) -> bool:
        return bool(self._loops) and not any(t.done() for t in self._loops)

    @property
    def consumer(self) -> AIOKafkaConsumer:
        if self._consumer is None:
            raise RuntimeError("the consumer is not started")
        return self._consumer

    async def start(self) -> None:
        options = self.options
        self._consumer = AIOKafkaConsumer(
            **options.connection,
            group_id=options.group_id,
            client_id=options.client_id,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            session_timeout_ms=options.session_timeout_ms,
            fetch_max_wait_ms=options.fetch_max_wait_ms,
            max_poll_interval_ms=options.max_poll_interval_ms,
        )
        self._consumer.subscribe(list(self.options.topics), listener=_Rebalance(self))
        await self._consumer.start()
        self._loops = [
            asyncio.create_task(self._fetch_loop(), name="fetch-loop"),
            asyncio.create_task(self._commit_loop(), name="commit-loop"),
        ]

    async def stop(self) -> None:
        """Stop fetching, drain running records (within the timeout), commit, leave the group."""
        self._stopping = True
        self._slot_freed.set()
        if self._loops:
            await asyncio.wait([self._loops[0]], timeout=self.options.drain_timeout_s)
        if self._tasks:
            logger.info("draining %d running record(s)", len(self._tasks))
            _, late = await asyncio.wait(self._tasks, timeout=self.options.drain_timeout_s)
            for task in late:
                task.cancel()
            if late:
                logger.warning("%d record(s) left uncommitted after the drain timeout", len(late))
                await asyncio.wait(late)
        for loop in self._loops:
            loop.cancel()
        await asyncio.gather(*self._loops, return_exceptions=True)
        await self.commit()
        await self.consumer.stop()

    async def start_over(self) -> None:
        """The broker lost its log: forget every position, read each partition from its start,
        and commit that start (the new log's group must not keep an offset of the old one)."""
        async with self._commit_lock:
            self._generation += 1
            self.offsets = OffsetTracker()
            for line in self._waiting.values():
                line.clear()
            self.start_over_pending = not await read_from_log_start(self.consumer)
        logger.info("reading %s from the start of the new log", ", ".join(self.options.topics))

    async def commit(self) -> None:
        """Commit every commit point that moved; a failure is logged (the records come again)."""
        async with self._commit_lock:
            offsets = self.offsets.to_commit()
            if not offsets:
                return
            try:
                await self.consumer.commit(offsets)
            except KafkaError as exc:
                logger.warning("offset commit failed (records will be read again): %r", exc)
                return
            self.offsets.committed(offsets)

    async def _fetch_loop(self) -> None:
        while not self._stopping:
            self._start_waiting()
            assigned = self.consumer.assignment()
            open_ = self._fetchable(assigned)
            if assigned and not open_:  # every waiting line is full, so every slot is busy
                await self._wait_for_slot()
                continue
            # With records waiting (slots busy), poll briefly so a freed slot is filled soon.
            waiting = any(self._waiting.values())
            wait_ms = self.options.fetch_max_wait_ms * (1 if waiting else 5)
            generation = self._generation
            batches = await self.consumer.getmany(  # nothing assigned yet: a poll that joins
                *open_, timeout_ms=wait_ms, max_records=self.options.concurrency
            )
            if generation != self._generation and batches:
                # Fetched while starting over (maybe at positions in the old log): read those
                # partitions from the new log's start again.
                seek_log_start(self.consumer, batches)
                continue
            for partition, records in batches.items():
                for record in records:
                    self.offsets.start(partition, record.offset)  # never committed past
                    self._waiting[partition.topic].append((partition, record))

    def _fetchable(self, assigned: set[TopicPartition]) -> list[TopicPartition]:
        """Assigned partitions whose topic's waiting line has room."""
        full = {t for t, line in self._waiting.items() if len(line) >= self.options.concurrency}
        return [tp for tp in assigned if tp.topic not in full]

    def _start_waiting(self) -> None:
        """Fill free slots from the waiting lines, by weighted turns between topics."""
        while len(self._tasks) < self.options.concurrency:
            ready = [topic for topic, line in self._waiting.items() if line]
            if not ready:
                return
            partition, record = self._waiting[self._turns.pick(ready)].popleft()
            self._start(partition, record)

    def drop_waiting(self, partitions: set[TopicPartition]) -> None:
        """Forget records not started of partitions taken away: their next owner reads them."""
        for topic, line in self._waiting.items():
            self._waiting[topic] = deque(item for item in line if item[0] not in partitions)

    async def _wait_for_slot(self) -> None:
        """Every slot is busy: pause fetching, but keep polling so the group keeps us."""
        paused = self.consumer.assignment()
        self.consumer.pause(*paused)
        try:
            while len(self._tasks) >= self.options.concurrency and not self._stopping:
                self._slot_freed.clear()
                try:
                    await asyncio.wait_for(self._slot_freed.wait(), KEEPALIVE_S)
                except TimeoutError:
                    await self.consumer.getmany(timeout_ms=0)
        finally:
            self.consumer.resume(*(paused & self.consumer.assignment()))

    def _start(self, partition: TopicPartition, record: ConsumerRecord) -> None:
        before = self._last_of_key.get(record.key) if record.key is not None else None
        task = asyncio.create_task(self._run(partition, record, before, self.offsets))
        self._tasks.add(task)
        if record.key is not None:
            self._last_of_key[record.key] = task
        task.add_done_callback(lambda t: self._finished(t, record.key))

    def _finished(self, task: asyncio.Task[None], key: bytes | None) -> None:
        self._tasks.discard(task)
        if key is not None and self._last_of_key.get(key) is task:
            del self._last_of_key[key]
        self._slot_freed.set()

    async def _run(
        self,
        partition: TopicPartition,
        record: ConsumerRecord,
        before: asyncio.Task[None] | None,
        offsets: OffsetTracker[TopicPartition],
    ) -> None:
        if before is not None:  # the same job's earlier record first
            await asyncio.wait([before])
        try:
            await self._handle_until_emitted(record)
        except Exception:
            # Handlers turn every failure of a job into its failed event; reaching here is a bug.
            # The record is finished anyway, so one bad record cannot stall its partition.
            logger.exception(
                "handler crashed at %s[%d]@%d", record.topic, record.partition, record.offset
            )
        # Cancelled (drain timeout) skips this: the record stays uncommitted, to be run again.
        # `offsets` is the tracker of the log the record came from (a log lost meanwhile: no-op).
        offsets.finish(partition, record.offset)
        self._commit_due.set()

    async def _handle_until_emitted(self, record: ConsumerRecord) -> None:
        async for attempt in AsyncRetrying(
            retry=retry_if_exception_type(EmitFailed),
            wait=wait_exponential_jitter(initial=0.2, max=10, jitter=0.2),
            before_sleep=lambda state: logger.warning(
                "emitting failed at %s[%d]@%d, trying again: %s",
                record.topic,
                record.partition,
                record.offset,
                state.outcome.exception() if state.outcome else None,
            ),
        ):
            with attempt:
                await self.handle(record)

    async def _commit_loop(self) -> None:
        while True:
            await self._commit_due.wait()
            self._commit_due.clear()
            started = time.monotonic()
            await self.commit()
            await asyncio.sleep(
                max(0.0, self.options.commit_interval_s - (time.monotonic() - started))
            )
