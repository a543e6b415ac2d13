"""The broker watch against a real broker killed and started again (memory storage: it comes
back empty): readiness fails while it is away, the new log is taken in once, topics come back
with their configured partitions."""

from __future__ import annotations

import asyncio
import os
import time
import uuid

import pytest
from aiokafka.admin import AIOKafkaAdminClient

from darkroom.runtime.broker_watch import BrokerNotReady, BrokerWatch, Watching
from darkroom.runtime.kafka import ensure_topics
from darkroom.runtime.settings import KafkaSettings
from tests.fixtures.kafka import TansuProcess, own_broker_only

pytestmark = [
    pytest.mark.integration,
    pytest.mark.timeout(90),
    own_broker_only,
]


async def until(predicate: object, timeout_s: float) -> float:
    started = time.monotonic()
    async with asyncio.timeout(timeout_s):
        while not predicate():  # type: ignore[operator]  # noqa: ASYNC110 (state of other tasks)
            await asyncio.sleep(0.05)
    return time.monotonic() - started


async def partition_counts(bootstrap: str, topics: list[str]) -> dict[str, int]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        return {t["topic"]: len(t["partitions"]) for t in await admin.describe_topics(topics)}
    finally:
        await admin.close()


async def test_a_broker_that_lost_its_log_is_taken_in_once_by_every_watch(
    broker: TansuProcess,
) -> None:
    settings = KafkaSettings(
        kafka_bootstrap_servers=broker.bootstrap,
        kafka_topic_suffix=uuid.uuid4().hex[:8],
        kafka_partitions=3,
        kafka_watch_interval_s=0.2,
    )
    await ensure_topics(settings, settings.topics.all_topics())
    taken_in: list[str] = []
    watches = [BrokerWatch(settings, f"p{i}") for i in range(3)]
    runs = [Watching(watch) for watch in watches]
    for watch, run in zip(watches, runs, strict=True):
        watch.react(lambda name=watch.name: _note(taken_in, name))
        await run.start()
    try:
        first = {w.state.incarnation for w in watches}
        assert len(first) == 1 and None not in first  # every process adopts the same log
        for watch in watches:
            await watch.check()

        broker.stop(kill=True)
        await until(lambda: all(w.state.problem for w in watches), 10)
        with pytest.raises(BrokerNotReady, match="does not answer"):
            await watches[0].check()
        await asyncio.sleep(1)
        assert taken_in == []  # away is not new

        broker.start()
        await until(lambda: all(w.state.problem is None for w in watches), 20)
        counts = await partition_counts(broker.bootstrap, settings.topics.all_topics())
    finally:
        for run in runs:
            await run.stop()

    assert sorted(taken_in) == ["p0", "p1", "p2"]  # once each
    after = {w.state.incarnation for w in watches}
    assert len(after) == 1 and after != first
    assert set(counts.values()) == {3}, counts


async def test_a_broker_that_comes_back_with_its_log_is_not_new(broker: TansuProcess) -> None:
    """Away and back with the same log (a network cut; Apache Kafka's restart): no reaction."""
    settings = KafkaSettings(
        kafka_bootstrap_servers=broker.bootstrap,
        kafka_topic_suffix=uuid.uuid4().hex[:8],
        kafka_watch_interval_s=0.2,
    )
    await ensure_topics(settings, settings.topics.all_topics())
    taken_in: list[str] = []
    watch = BrokerWatch(settings, "p")
    watch.react(lambda: _note(taken_in, "p"))
    running = Watching(watch)
    await running.start()
    try:
        os.kill(broker.proc.pid, 19)  # SIGSTOP: the broker does not answer, keeps its log
        try:
            await until(lambda: watch.state.problem is not None, 15)
        finally:
            os.kill(broker.proc.pid, 18)  # SIGCONT
        await until(lambda: watch.state.problem is None, 15)
        await asyncio.sleep(1)
    finally:
        await running.stop()  # bounded, even if the broker never answers again
    assert taken_in == []


async def _note(taken_in: list[str], name: str) -> None:
    taken_in.append(name)
