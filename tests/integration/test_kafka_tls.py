"""Every kind of Kafka client the stack builds reaches a broker that speaks only TLS, from the
KAFKA_SECURITY_PROTOCOL and KAFKA_SSL_* settings alone: the admin client (topics), the
producers, a group consumer, the broker watch and FastStream's broker. A broker whose
certificate no configured CA signed, or one that wants a client certificate the settings do not
give, is refused."""

from __future__ import annotations

import asyncio
import logging
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer
from aiokafka.errors import KafkaConnectionError

from darkroom.runtime.broker_watch import BrokerWatch, Watching
from darkroom.runtime.kafka import ensure_topics, make_broker, make_producer, start_producer
from darkroom.runtime.kafka_connection import client_options
from darkroom.runtime.settings import KafkaSettings
from tests.fixtures.tls import TlsBroker

pytestmark = pytest.mark.integration


def tls_settings(
    broker: TlsBroker, *, ca: Path | None = None, client_cert: bool = False
) -> KafkaSettings:
    files = broker.files
    return KafkaSettings(
        kafka_bootstrap_servers=broker.bootstrap,
        kafka_security_protocol="SSL",
        kafka_ssl_ca_file=ca or files.ca,
        kafka_ssl_cert_file=files.client_cert if client_cert else None,
        kafka_ssl_key_file=files.client_key if client_cert else None,
        kafka_partitions=1,
        kafka_topic_suffix=uuid.uuid4().hex[:8],
        kafka_startup_timeout_s=5,
    )


async def round_trip(settings: KafkaSettings) -> bytes:
    """Create a topic, write a record with the stack's producer and read it in a group."""
    topic = f"tls-{uuid.uuid4().hex[:8]}"
    await ensure_topics(settings, [topic])
    producer = make_producer(settings, client_id="tls-test")
    await start_producer(producer)
    try:
        await producer.send_and_wait(topic, b"over tls")
    finally:
        await producer.stop()
    consumer = AIOKafkaConsumer(
        topic,
        **client_options(settings),
        group_id=f"g-{topic}",
        auto_offset_reset="earliest",
        session_timeout_ms=2000,
    )
    await consumer.start()
    try:
        record = await asyncio.wait_for(consumer.getone(), 30)
    finally:
        await consumer.stop()
    return record.value or b""


async def test_the_stacks_clients_reach_a_broker_that_speaks_only_tls(
    tls_broker: TlsBroker,
) -> None:
    settings = tls_settings(tls_broker)
    assert await round_trip(settings) == b"over tls"

    watch = Watching(BrokerWatch(settings, "tls-test"))
    await watch.start()  # claims and reads the broker's incarnation
    try:
        await watch.watch.check()
        assert watch.watch.state.incarnation is not None
    finally:
        await watch.stop()

    broker = make_broker(settings, "tls-test", logging.getLogger("tls"))
    await broker.start()
    try:
        await broker.publish(b"from faststream", f"tls-fs-{uuid.uuid4().hex[:6]}")
    finally:
        await broker.stop()


async def test_a_broker_whose_certificate_no_configured_ca_signed_is_refused(
    tls_broker: TlsBroker,
) -> None:
    settings = tls_settings(tls_broker, ca=tls_broker.files.other_ca)
    with pytest.raises(KafkaConnectionError):
        await round_trip(settings)


async def test_mutual_tls_presents_the_configured_client_certificate(
    mtls_broker: TlsBroker,
) -> None:
    assert await round_trip(tls_settings(mtls_broker, client_cert=True)) == b"over tls"
    with pytest.raises(KafkaConnectionError):
        await round_trip(tls_settings(mtls_broker, client_cert=False))


def test_the_topics_command_creates_the_topics_over_tls(tls_broker: TlsBroker) -> None:
    files = tls_broker.files
    env = {
        **os.environ,
        "KAFKA_BOOTSTRAP_SERVERS": tls_broker.bootstrap,
        "KAFKA_SECURITY_PROTOCOL": "SSL",
        "KAFKA_SSL_CA_FILE": str(files.ca),
        "KAFKA_PARTITIONS": "1",
    }
    run = subprocess.run(
        [sys.executable, "-m", "darkroom.runtime.topics"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    again = subprocess.run(
        [sys.executable, "-m", "darkroom.runtime.topics", "--dry-run"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert again.returncode == 0 and "topics are as wanted" in again.stdout, again.stdout
