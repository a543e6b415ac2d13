"""The projector process (`darkroom-projector`): jobs.events -> job table + history, and the
batch and chain parents that follow their children. Wiring only."""

from __future__ import annotations

import logging

from faststream import AckPolicy
from faststream.asgi import AsgiFastStream, HttpHandler, make_ping_asgi
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from faststream.kafka.subscriber.usecase import BatchSubscriber

from darkroom.gateway.projector import project, reactor
from darkroom.gateway.settings import ProjectorSettings
from darkroom.runtime.broker_watch import BrokerNotReady, BrokerWatch, LogCheck, Watching
from darkroom.runtime.db import JobStore, open_database
from darkroom.runtime.kafka import LogStartOnAssign, ensure_topics, make_broker, raw_batch
from darkroom.runtime.readiness import answering, consuming, readiness
from darkroom.runtime.serving import configure_process, serve

logger = logging.getLogger("darkroom.projector")


def create_app(settings: ProjectorSettings) -> AsgiFastStream:
    broker = make_broker(settings, client_id=f"projector-{settings.instance_id}", log=logger)
    db = open_database(settings)
    watch = BrokerWatch(settings, f"projector-{settings.instance_id}")
    log_start = LogStartOnAssign()
    subscriber = subscribe(broker, settings, JobStore(db), watch, log_start)

    async def start_over() -> None:  # the broker lost its log: project the new one from its start
        await log_start.start_over(subscriber.consumer)

    async def create_topics() -> None:
        await ensure_topics(settings, settings.topics.all_topics())

    watch.react(start_over)
    watching = Watching(watch)
    health = make_ping_asgi(broker, timeout=5)
    return AsgiFastStream(
        broker,
        asgi_routes=[("/healthz", health), ("/readyz", ready(broker, subscriber, watch))],
        logger=logger,
        on_startup=[create_topics, watching.start],  # the watch knows the log before any batch
        on_shutdown=[watching.stop],
        after_shutdown=[db.dispose],
    )


def subscribe(
    broker: KafkaBroker,
    settings: ProjectorSettings,
    store: JobStore,
    watch: BrokerWatch,
    listener: LogStartOnAssign,
) -> BatchSubscriber:
    """The projection's batch subscriber on the events topic."""
    topics, react = settings.topics, reactor(settings.topics)
    # NACK_ON_ERROR: if the database is away the batch is read again, never skipped.
    subscriber = broker.subscriber(
        topics.events,
        group_id=topics.projector_group,
        batch=True,
        max_records=settings.projector_batch_size,
        batch_timeout_ms=20,
        auto_offset_reset="earliest",
        ack_policy=AckPolicy.NACK_ON_ERROR,
        session_timeout_ms=settings.kafka_session_timeout_ms,
        fetch_max_wait_ms=settings.kafka_fetch_max_wait_ms,
        decoder=raw_batch,
        listener=listener,
    )

    @subscriber
    async def on_events(payloads: list[bytes], message: KafkaMessage) -> None:
        match await watch.log_of_fetch():
            case LogCheck.SAME:
                await project(payloads, store, react)
            case LogCheck.OTHER:  # a new log read at the old one's positions: dropped, the
                logger.info("dropped %d events of a new log", len(payloads))  # take-in rereads
            case LogCheck.UNKNOWN:  # read the batch again later
                await message.nack()

    return subscriber


def ready(broker: KafkaBroker, subscriber: BatchSubscriber, watch: BrokerWatch) -> HttpHandler:
    """`/readyz`: the event consumer runs and the broker answers, with the log the projector
    reads (503 saying why, if not)."""

    async def same_log() -> str | None:
        try:
            await watch.check()
        except BrokerNotReady as exc:
            return str(exc)
        return None

    return readiness(consuming(subscriber, "event consumer"), same_log, answering(broker))


def run() -> None:
    settings = ProjectorSettings()
    configure_process(settings, "projector")
    serve(create_app(settings), settings.projector_host, settings.projector_port)
