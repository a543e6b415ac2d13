"""The webhook sender process (`darkroom-webhooks`): jobs.events -> deliveries (its own consumer
group), and the dispatcher that sends them. Wiring only."""

from __future__ import annotations

import logging

from faststream.asgi import AsgiFastStream, make_ping_asgi
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage

from darkroom.contracts.webhooks import WebhookDeadLetter
from darkroom.gateway.webhooks.dispatch import DeadLetters, Dispatcher
from darkroom.gateway.webhooks.intake import Intake, ProjectorBehind
from darkroom.gateway.webhooks.settings import WebhookSettings
from darkroom.runtime.db import open_database
from darkroom.runtime.db.webhooks import WebhookStore
from darkroom.runtime.event_log import Take, follow_events
from darkroom.runtime.kafka import ensure_topics, make_broker
from darkroom.runtime.readiness import answering, consuming, readiness
from darkroom.runtime.serving import configure_process, serve

logger = logging.getLogger("darkroom.webhooks")


def dead_letters(broker: KafkaBroker, topic: str) -> DeadLetters:
    """Deliveries that gave up, published to the webhook dead-letter topic."""

    async def dead_letter(letter: WebhookDeadLetter) -> None:
        body = letter.model_dump_json().encode()
        await broker.publish(body, topic, key=str(letter.job_id).encode())

    return dead_letter


def taking(intake: Intake) -> Take:
    """The intake of a batch; one the projector has not recorded yet is read again later."""

    async def take(payloads: list[bytes], message: KafkaMessage) -> None:
        try:
            await intake.take(payloads)
        except ProjectorBehind as exc:
            logger.info("%s: reading the batch again", exc)
            await message.nack()

    return take


def create_app(settings: WebhookSettings) -> AsgiFastStream:
    name, topics = f"webhooks-{settings.instance_id}", settings.topics
    broker = make_broker(settings, client_id=name, log=logger)
    db = open_database(settings)
    store = WebhookStore(db)
    dispatcher = Dispatcher(store, settings, dead_letters(broker, topics.webhooks_dlq))
    take = taking(Intake(store, dispatcher.wake.set))
    log = follow_events(
        broker, settings, name, topics.webhooks_group, settings.webhook_intake_batch_size, take
    )

    async def start() -> None:
        await ensure_topics(settings, topics.all_topics())
        await log.watching.start()
        dispatcher.start()

    async def stop() -> None:
        await log.watching.stop()
        await dispatcher.close()

    # `/readyz`: the intake and the sender run, the broker answers with the log it reads.
    ready = readiness(
        consuming(log.subscriber, "event intake"),
        dispatcher.problem,
        log.same_log(),
        answering(broker),
    )
    return AsgiFastStream(
        broker,
        asgi_routes=[("/healthz", make_ping_asgi(broker, timeout=5)), ("/readyz", ready)],
        logger=logger,
        on_startup=[start],
        on_shutdown=[stop],
        after_shutdown=[db.dispose],
    )


def run() -> None:
    settings = WebhookSettings()
    configure_process(settings, "webhooks")
    serve(create_app(settings), settings.webhooks_host, settings.webhooks_port)
