"""The shared worker consumer loop against a real broker: concurrency, commits, drain."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from aiokafka import AIOKafkaProducer, ConsumerRecord

from darkroom.runtime.kafka import EmitFailed, ensure_topics
from darkroom.runtime.kafka_connection import client_options
from darkroom.runtime.settings import KafkaSettings
from darkroom.runtime.worker import ConsumerOptions, Handle, JobConsumer
from tests.integration.helpers import wait_until

pytestmark = pytest.mark.integration


@pytest.fixture
async def topic(kafka_bootstrap: str) -> str:
    name = f"worker-loop-{uuid.uuid4().hex[:8]}"
    settings = KafkaSettings(kafka_bootstrap_servers=kafka_bootstrap, kafka_partitions=1)
    await ensure_topics(settings, [name])
    return name


async def produce(bootstrap: str, topic: str, values: list[bytes]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        for value in values:
            await producer.send_and_wait(topic, value, key=value)  # each its own job
    finally:
        await producer.stop()


@asynccontextmanager
async def running(
    bootstrap: str, topic: str | dict[str, int], group: str, handle: Handle, **options: float
) -> AsyncIterator[JobConsumer]:
    consumer = JobConsumer(
        ConsumerOptions(
            connection=client_options(KafkaSettings(kafka_bootstrap_servers=bootstrap)),
            topics={topic: 1} if isinstance(topic, str) else topic,
            group_id=group,
            client_id=group,
            session_timeout_ms=2000,
            **options,  # type: ignore[arg-type]
        ),
        handle,
    )
    await consumer.start()
    try:
        yield consumer
    finally:
        await consumer.stop()


async def test_records_of_one_partition_run_concurrently_up_to_the_limit(
    kafka_bootstrap: str, topic: str
) -> None:
    await produce(kafka_bootstrap, topic, [f"job-{n}".encode() for n in range(6)])
    release = asyncio.Event()
    started: list[bytes] = []

    async def handle(record: ConsumerRecord) -> None:
        started.append(record.value)
        await release.wait()

    group = f"g-{uuid.uuid4().hex[:8]}"
    async with running(kafka_bootstrap, topic, group, handle, concurrency=4) as consumer:
        await wait_until(lambda: len(started) == 4, "len(started) == 4")
        await asyncio.sleep(0.3)
        assert len(started) == 4  # the limit holds although 6 are waiting on the one partition
        assert consumer.running == 4
        release.set()
        await wait_until(lambda: len(started) == 6, "len(started) == 6")


async def test_a_record_still_running_is_read_again_by_the_next_member_although_later_ones_finished(
    kafka_bootstrap: str, topic: str
) -> None:
    await produce(kafka_bootstrap, topic, [b"slow", b"fast-1", b"fast-2"])
    finished: list[bytes] = []

    async def first_member(record: ConsumerRecord) -> None:
        if record.value == b"slow":
            await asyncio.sleep(3600)  # cut off by the drain timeout below
        finished.append(record.value)

    group = f"g-{uuid.uuid4().hex[:8]}"
    async with running(kafka_bootstrap, topic, group, first_member, drain_timeout_s=0.5):
        await wait_until(lambda: len(finished) == 2, "len(finished) == 2")
        await asyncio.sleep(0.2)  # the commit loop runs; it may only commit up to "slow"

    seen: list[bytes] = []

    async def second_member(record: ConsumerRecord) -> None:
        seen.append(record.value)

    async with running(kafka_bootstrap, topic, group, second_member):
        await wait_until(lambda: len(seen) == 3, "len(seen) == 3")
    assert seen == [b"slow", b"fast-1", b"fast-2"]


async def test_stop_lets_running_records_finish_and_commits_them(
    kafka_bootstrap: str, topic: str
) -> None:
    await produce(kafka_bootstrap, topic, [b"a", b"b"])
    started, finished = asyncio.Event(), []

    async def handle(record: ConsumerRecord) -> None:
        started.set()
        await asyncio.sleep(0.5)
        finished.append(record.value)

    group = f"g-{uuid.uuid4().hex[:8]}"
    async with running(kafka_bootstrap, topic, group, handle, drain_timeout_s=10):
        await started.wait()
    assert sorted(finished) == [b"a", b"b"]  # stop() waited for both

    again: list[bytes] = []

    async def count(record: ConsumerRecord) -> None:
        again.append(record.value)

    await produce(kafka_bootstrap, topic, [b"c"])
    async with running(kafka_bootstrap, topic, group, count):
        await wait_until(lambda: again == [b"c"], "only c")  # a and b were committed


async def test_a_record_whose_outcome_could_not_be_emitted_is_run_again(
    kafka_bootstrap: str, topic: str
) -> None:
    await produce(kafka_bootstrap, topic, [b"x"])
    calls: list[bytes] = []

    async def handle(record: ConsumerRecord) -> None:
        calls.append(record.value)
        if len(calls) < 3:
            raise EmitFailed("broker did not acknowledge")

    group = f"g-{uuid.uuid4().hex[:8]}"
    async with running(kafka_bootstrap, topic, group, handle):
        await wait_until(lambda: len(calls) == 3, "len(calls) == 3")
    assert calls == [b"x", b"x", b"x"]


async def test_records_of_one_job_run_in_order_one_at_a_time(
    kafka_bootstrap: str, topic: str
) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap)
    await producer.start()
    for n in range(3):
        await producer.send_and_wait(topic, f"attempt-{n}".encode(), key=b"same-job")
    await producer.stop()
    log: list[str] = []

    async def handle(record: ConsumerRecord) -> None:
        log.append(f"start {record.value.decode()}")
        await asyncio.sleep(0.05)
        log.append(f"end {record.value.decode()}")

    group = f"g-{uuid.uuid4().hex[:8]}"
    async with running(kafka_bootstrap, topic, group, handle, concurrency=4):
        await wait_until(lambda: len(log) == 6, "len(log) == 6")
    assert log == [f"{what} attempt-{n}" for n in range(3) for what in ("start", "end")]


async def test_with_a_backlog_on_every_priority_high_starts_first_and_low_is_not_starved(
    kafka_bootstrap: str,
) -> None:
    lines = {"high": 6, "normal": 3, "low": 1}
    names = {p: f"prio-{p}-{uuid.uuid4().hex[:8]}" for p in lines}
    settings = KafkaSettings(kafka_bootstrap_servers=kafka_bootstrap, kafka_partitions=1)
    await ensure_topics(settings, list(names.values()))
    for priority, name in names.items():  # the backlog is there before the worker starts
        await produce(kafka_bootstrap, name, [f"{priority}-{n}".encode() for n in range(12)])
    order: list[str] = []

    async def handle(record: ConsumerRecord) -> None:
        order.append(record.value.decode().split("-")[0])
        await asyncio.sleep(0.005)

    weights = {names[p]: w for p, w in lines.items()}
    group = f"g-{uuid.uuid4().hex[:8]}"
    async with running(kafka_bootstrap, weights, group, handle, concurrency=1):
        await wait_until(lambda: len(order) == 36, "len(order) == 36")

    def mean_start(priority: str) -> float:
        return sum(i for i, p in enumerate(order) if p == priority) / 12

    assert mean_start("high") < mean_start("normal") < mean_start("low"), order
    assert order[:12].count("high") >= 6, order  # high takes most of the first starts
    assert "low" in order[:15], order  # and low gets its turn long before the others drain
