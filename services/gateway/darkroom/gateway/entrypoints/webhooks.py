"""The webhook sender process (`darkroom-webhooks`): jobs.events -> deliveries (its own consumer
group), and the dispatcher that sends them. Wiring only."""

from __future__ import annotations

import asyncio
import logging
from contextlib import suppress

from faststream import AckPolicy
from faststream.asgi import AsgiFastStream, HttpHandler, make_ping_asgi
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from faststream.kafka.subscriber.usecase import BatchSubscriber

from darkroom.contracts.webhooks import WebhookDeadLetter
from darkroom.gateway.webhooks.dispatch import Dispatcher
from darkroom.gateway.webhooks.intake import Intake, ProjectorBehind
from darkroom.gateway.webhooks.settings import WebhookSettings
from darkroom.runtime.db import open_database
from darkroom.runtime.db.webhooks import WebhookStore
from darkroom.runtime.kafka import ensure_topics, make_broker, raw_batch
from darkroom.runtime.readiness import answering, consuming, readiness
from darkroom.runtime.serving import configure_process, serve

logger = logging.getLogger("darkroom.webhooks")


def create_app(settings: WebhookSettings) -> AsgiFastStream:
    broker = make_broker(settings, client_id=f"webhooks-{settings.instance_id}", log=logger)
    db = open_database(settings)
    store = WebhookStore(db)
    topics = settings.topics

    async def dead_letter(letter: WebhookDeadLetter) -> None:
        body = letter.model_dump_json().encode()
        await broker.publish(body, topics.webhooks_dlq, key=str(letter.job_id).encode())

    dispatcher = Dispatcher(store, settings, dead_letter)
    subscriber = subscribe(broker, settings, Intake(store, dispatcher.wake.set))
    sending: list[asyncio.Task[None]] = []

    async def start() -> None:
        await ensure_topics(settings, topics.all_topics())
        sending.append(asyncio.create_task(dispatcher.run()))

    async def stop() -> None:
        for task in sending:
            task.cancel()
            with suppress(asyncio.CancelledError):
                await task

    return AsgiFastStream(
        broker,
        asgi_routes=[
            ("/healthz", make_ping_asgi(broker, timeout=5)),
            ("/readyz", ready(broker, subscriber, sending)),
        ],
        logger=logger,
        on_startup=[start],
        on_shutdown=[stop],
        after_shutdown=[db.dispose],
    )


def subscribe(broker: KafkaBroker, settings: WebhookSettings, intake: Intake) -> BatchSubscriber:
    """The intake's batch subscriber on the events topic, in the webhooks' own group."""
    topics = settings.topics
    # NACK_ON_ERROR: a batch the projector has not recorded yet, or taken in while the database
    # is away, is read again, never skipped.
    subscriber = broker.subscriber(
        topics.events,
        group_id=topics.webhooks_group,
        batch=True,
        max_records=settings.webhook_intake_batch_size,
        batch_timeout_ms=20,
        auto_offset_reset="earliest",
        ack_policy=AckPolicy.NACK_ON_ERROR,
        session_timeout_ms=settings.kafka_session_timeout_ms,
        fetch_max_wait_ms=settings.kafka_fetch_max_wait_ms,
        decoder=raw_batch,
    )

    @subscriber
    async def on_events(payloads: list[bytes], message: KafkaMessage) -> None:
        try:
            await intake.take(payloads)
        except ProjectorBehind as exc:
            logger.info("%s: reading the batch again", exc)
            await message.nack()

    return subscriber


def ready(
    broker: KafkaBroker, subscriber: BatchSubscriber, sending: list[asyncio.Task[None]]
) -> HttpHandler:
    """`/readyz`: the intake and the sender run and the broker answers (503 saying why, if not)."""

    async def sender() -> str | None:
        return None if sending and not sending[0].done() else "the sender stopped"

    return readiness(consuming(subscriber, "event intake"), sender, answering(broker))


def run() -> None:
    settings = WebhookSettings()
    configure_process(settings, "webhooks")
    serve(create_app(settings), settings.webhooks_host, settings.webhooks_port)
