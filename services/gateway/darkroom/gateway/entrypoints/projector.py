"""The projector process (`darkroom-projector`): jobs.events -> job table + history, and the
batch and chain parents that follow their children. Wiring only."""

from __future__ import annotations

import logging

from faststream.asgi import AsgiFastStream, make_ping_asgi
from faststream.kafka.annotations import KafkaMessage

from darkroom.gateway.projector import project, reactor
from darkroom.gateway.settings import ProjectorSettings
from darkroom.runtime.db import JobStore, open_database
from darkroom.runtime.event_log import follow_events
from darkroom.runtime.kafka import ensure_topics, make_broker
from darkroom.runtime.readiness import answering, consuming, readiness
from darkroom.runtime.serving import configure_process, serve

logger = logging.getLogger("darkroom.projector")


def create_app(settings: ProjectorSettings) -> AsgiFastStream:
    name = f"projector-{settings.instance_id}"
    broker = make_broker(settings, client_id=name, log=logger)
    db = open_database(settings)
    store, react = JobStore(db), reactor(settings.topics)

    async def take(payloads: list[bytes], message: KafkaMessage) -> None:
        await project(payloads, store, react)

    log = follow_events(
        broker, settings, name, settings.topics.projector_group, settings.projector_batch_size, take
    )

    async def create_topics() -> None:
        await ensure_topics(settings, settings.topics.all_topics())

    # `/readyz`: the event consumer runs and the broker answers, with the log it projects.
    ready = readiness(
        consuming(log.subscriber, "event consumer"), log.same_log(), answering(broker)
    )
    return AsgiFastStream(
        broker,
        asgi_routes=[("/healthz", make_ping_asgi(broker, timeout=5)), ("/readyz", ready)],
        logger=logger,
        on_startup=[create_topics, log.watching.start],  # the watch knows the log first
        on_shutdown=[log.watching.stop],
        after_shutdown=[db.dispose],
    )


def run() -> None:
    settings = ProjectorSettings()
    configure_process(settings, "projector")
    serve(create_app(settings), settings.projector_host, settings.projector_port)
