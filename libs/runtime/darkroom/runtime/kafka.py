"""Kafka plumbing shared by the services: topic creation, producers, FastStream brokers, headers."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.abc import ConsumerRebalanceListener
from aiokafka.errors import KafkaConnectionError, KafkaError, UnknownError
from faststream.kafka import KafkaBroker, KafkaMessage
from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_delay, wait_exponential

from darkroom.contracts.events import JobEvent, encode_event, is_terminal
from darkroom.jobs.messages import event_headers
from darkroom.runtime.kafka_connection import broker_security, client_options
from darkroom.runtime.settings import KafkaSettings
from darkroom.runtime.topics.admin import admin_client, create_topics
from darkroom.runtime.topics.desired import TopicState, desired_topics

logger = logging.getLogger(__name__)

MAX_MESSAGE_BYTES = 8 * 1024 * 1024
COMMIT_TIMEOUT_S = 10.0  # a commit to a group that is rebalancing may wait for it


async def ensure_topics(settings: KafkaSettings, names: Iterable[str]) -> None:
    """Create the topics that do not exist yet, waiting for the broker to answer first."""
    wanted = list(names)
    async for attempt in AsyncRetrying(
        retry=retry_if_exception_type((KafkaConnectionError, OSError)),
        wait=wait_exponential(multiplier=0.1, max=2),
        stop=stop_after_delay(settings.kafka_startup_timeout_s),
        reraise=True,
    ):
        with attempt:
            await _create_missing(settings, wanted)


async def _create_missing(settings: KafkaSettings, wanted: list[str]) -> None:
    specs = {t.name: t for t in desired_topics(settings)}
    async with admin_client(settings) as admin:
        existing = set(await admin.list_topics())
        missing = [specs.get(t) or _plain(t, settings) for t in wanted if t not in existing]
        await create_topics(admin, missing)


def _plain(name: str, settings: KafkaSettings) -> TopicState:
    """A topic the contracts do not describe (tests): partitions and replication only."""
    return TopicState(name, settings.kafka_partitions, settings.kafka_replication_factor)


def make_producer(settings: KafkaSettings, client_id: str) -> AIOKafkaProducer:
    """A producer that waits for every in-sync replica (acks=all) and batches for a few ms;
    idempotent with KAFKA_ENABLE_IDEMPOTENCE (Apache Kafka; Tansu refuses aiokafka's
    InitProducerId). Consumers deduplicate by event id either way. Start it with
    `start_producer`."""
    return AIOKafkaProducer(
        **client_options(settings),
        client_id=client_id,
        acks="all",
        linger_ms=settings.kafka_linger_ms,
        max_batch_size=256 * 1024,
        max_request_size=MAX_MESSAGE_BYTES,
        enable_idempotence=settings.kafka_enable_idempotence,
    )


class IdempotenceRefused(RuntimeError):
    """The broker refused an idempotent producer."""


async def start_producer(producer: AIOKafkaProducer) -> None:
    """Start `producer`; a broker that refuses an idempotent one is a clear error, not an
    UnknownError (aiokafka's InitProducerId is all the embedded broker answers that way)."""
    try:
        await producer.start()
    except UnknownError as exc:
        await producer.stop()
        raise IdempotenceRefused(
            "the broker refused to start an idempotent producer: set "
            "KAFKA_ENABLE_IDEMPOTENCE=false (the embedded broker cannot have it)"
        ) from exc


def make_broker(settings: KafkaSettings, client_id: str, log: logging.Logger) -> KafkaBroker:
    """A FastStream broker with Darkroom's producer settings and the service's logger."""
    return KafkaBroker(
        settings.kafka_bootstrap_servers,
        security=broker_security(settings),
        client_id=client_id,
        acks="all",
        linger_ms=settings.kafka_linger_ms,
        max_request_size=MAX_MESSAGE_BYTES,
        logger=log,
        log_level=logging.DEBUG,
    )


def job_key(job_id: object) -> bytes:
    """The Kafka key of everything about a job: its id, so a job's messages keep their order."""
    return str(job_id).encode()


class EmitFailed(Exception):
    """The broker did not acknowledge an event: the request must be redelivered, not failed."""


Emit = Callable[[JobEvent], Awaitable[None]]
# Publish one message (topic, value, key, headers) and return once the broker acknowledged it.
Send = Callable[[str, bytes, bytes | None, list[tuple[str, bytes]]], Awaitable[None]]


def event_emitter(producer: AIOKafkaProducer, topic: str) -> Emit:
    """Publish job events to `topic`, keyed by job id, pipelined.

    Non-terminal events (started, progress) are handed to the producer without waiting for the
    broker; a terminal event waits until it and every event before it are acknowledged
    (acks=all). So when emitting the outcome returns, the job's whole history is durable, and
    only then does the caller commit the request: at-least-once, with one round trip per job
    instead of one per event.
    """
    # Per job: jobs running concurrently in one process share this emitter, and a job's outcome
    # must wait for (and answer for) its own events only.
    pending: dict[object, list[asyncio.Future[Any]]] = {}

    async def emit(event: JobEvent) -> None:
        acks = pending.setdefault(event.job_id, [])
        try:
            ack = await producer.send(
                topic,
                encode_event(event),
                key=job_key(event.job_id),
                headers=[(k, v.encode()) for k, v in event_headers(event).items()],
            )
            acks.append(ack)
            if is_terminal(event):
                del pending[event.job_id]
                await asyncio.gather(*acks)
        except Exception as exc:
            pending.pop(event.job_id, None)
            raise EmitFailed(str(exc)) from exc

    return emit


class MissingTopic(RuntimeError):
    """The broker has no partitions of a topic: it was not created."""


def topic_partitions(consumer: AIOKafkaConsumer, topic: str) -> list[TopicPartition]:
    """Every partition of `topic`, in order, for a consumer that assigns itself all of them."""
    ids = consumer.partitions_for_topic(topic)
    if not ids:
        raise MissingTopic(f"topic {topic} has no partitions: create the topics first")
    return [TopicPartition(topic, p) for p in sorted(ids)]


def message_sender(producer: AIOKafkaProducer) -> Send:
    """Send one message and return once the broker acknowledged it; EmitFailed otherwise."""

    async def send(
        topic: str, value: bytes, key: bytes | None, headers: list[tuple[str, bytes]]
    ) -> None:
        try:
            ack = await producer.send(topic, value, key=key, headers=headers)
            await ack
        except Exception as exc:
            raise EmitFailed(str(exc)) from exc

    return send


async def read_from_log_start(
    consumer: AIOKafkaConsumer, partitions: Iterable[TopicPartition] | None = None
) -> bool:
    """The broker lost its log: move a group member's partitions (all it holds by default) to the
    start of the new log and commit that start, so the group keeps no offset of the old log.
    False when it holds none or the commit failed (the group is rebalancing): then the caller
    does it again when partitions are next assigned (`LogStartOnAssign`)."""
    held = list(consumer.assignment() if partitions is None else partitions)
    if not held:
        return False
    starts = seek_log_start(consumer, held)
    try:
        await asyncio.wait_for(consumer.commit(starts), COMMIT_TIMEOUT_S)
    except (KafkaError, TimeoutError) as exc:
        logger.warning("committing the new log's start failed (again when assigned): %r", exc)
        return False
    return True


def seek_log_start(
    consumer: AIOKafkaConsumer, partitions: Iterable[TopicPartition]
) -> dict[TopicPartition, int]:
    """Move to offset 0 without waiting (`seek_to_beginning` waits up to the request timeout
    for a broker that may be rebalancing); a log whose start was deleted answers "out of range"
    and the consumer resets to its earliest offset, as configured everywhere here."""
    starts = {}
    for tp in partitions:
        consumer.seek(tp, 0)
        starts[tp] = 0
    return starts


class LogStartOnAssign(ConsumerRebalanceListener):  # type: ignore[misc]
    """A group member that starts over from the new log's start (`start_over`) also does so for
    the partitions it is assigned next, if it could not at once: a group rebalancing after the
    broker lost its log hands partitions out with whatever offsets were committed meanwhile."""

    def __init__(self) -> None:
        self.consumer: AIOKafkaConsumer | None = None
        self.pending = False

    async def start_over(self, consumer: AIOKafkaConsumer | None) -> None:
        self.consumer, self.pending = consumer, True
        if consumer is not None and await read_from_log_start(consumer):
            self.pending = False

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        pass

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        if self.pending and self.consumer is not None and assigned:
            seek_log_start(self.consumer, assigned)
            self.pending = False


async def raw_batch(message: KafkaMessage) -> list[bytes]:
    """A FastStream batch decoder that hands the handler the raw bytes, to validate (and skip
    poison) itself: one malformed message must not fail its whole batch."""
    return [record.value or b"" for record in message.raw_message]
