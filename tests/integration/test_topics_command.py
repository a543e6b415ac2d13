"""`darkroom-topics` and the producers' settings against the test broker: a dry run changes
nothing, a run creates every topic with its configs, a second run has nothing to do, and what
the broker refuses is a non-zero exit saying so."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from aiokafka.admin import AIOKafkaAdminClient

from darkroom.runtime.kafka import IdempotenceRefused, make_producer, start_producer
from darkroom.runtime.settings import KafkaSettings
from darkroom.runtime.topics.admin import admin_client, read_topics
from darkroom.runtime.topics.cli import sync_topics
from darkroom.runtime.topics.desired import desired_topics

pytestmark = pytest.mark.integration


async def listed(bootstrap: str) -> set[str]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        return set(await admin.list_topics())
    finally:
        await admin.close()


async def test_topics_are_created_with_their_configs_once_and_a_dry_run_changes_nothing(
    kafka_bootstrap: str, topic_suffix: str
) -> None:
    settings = KafkaSettings(
        kafka_bootstrap_servers=kafka_bootstrap, kafka_topic_suffix=topic_suffix, kafka_partitions=2
    )
    wanted = desired_topics(settings)
    said: list[str] = []

    assert await sync_topics(settings, dry_run=True, say=said.append) == 0
    assert len(said) == len(wanted) and all(line.startswith("create ") for line in said)
    assert not {t.name for t in wanted} & await listed(kafka_bootstrap)

    assert await sync_topics(settings, dry_run=False, say=said.append) == 0
    async with admin_client(settings) as admin:
        found = await read_topics(admin, wanted)
    assert found == {t.name: t for t in wanted}  # partitions, replication and managed configs

    said.clear()
    assert await sync_topics(settings, dry_run=False, say=said.append) == 0
    assert said == [f"all {len(wanted)} topics are as wanted"]


def test_the_command_exits_non_zero_saying_why_when_the_broker_does_not_answer() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "darkroom.runtime.topics", "--dry-run"],
        env={"KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:1", "PATH": ""},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1, result
    assert "failed (127.0.0.1:1)" in result.stdout


async def test_an_idempotent_producer_the_broker_refuses_is_a_clear_error(
    kafka_bootstrap: str,
) -> None:
    """On Apache Kafka KAFKA_ENABLE_IDEMPOTENCE=true works; the embedded broker refuses it, and
    the service stops at start saying which setting to change (not aiokafka's UnknownError)."""
    settings = KafkaSettings(kafka_bootstrap_servers=kafka_bootstrap, kafka_enable_idempotence=True)
    producer = make_producer(settings, "idempotent")
    assert producer._txn_manager is not None  # aiokafka made it idempotent
    if os.environ.get("KAFKA_BOOTSTRAP_SERVERS"):  # a real Kafka takes it
        await start_producer(producer)
        await producer.stop()
        return
    with pytest.raises(IdempotenceRefused, match="KAFKA_ENABLE_IDEMPOTENCE=false"):
        await start_producer(producer)
