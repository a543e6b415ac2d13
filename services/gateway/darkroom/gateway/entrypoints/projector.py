"""The projector process (`darkroom-projector`): jobs.events -> job table + history, and the
batch and chain parents that follow their children. Wiring only."""

from __future__ import annotations

import logging

from faststream import AckPolicy
from faststream.asgi import AsgiFastStream, make_ping_asgi

from darkroom.gateway.projector import project, reactor
from darkroom.gateway.settings import ProjectorSettings
from darkroom.runtime.db import JobStore, open_database
from darkroom.runtime.kafka import ensure_topics, make_broker, raw_batch
from darkroom.runtime.serving import configure_process, serve

logger = logging.getLogger("darkroom.projector")


def create_app(settings: ProjectorSettings) -> AsgiFastStream:
    topics = settings.topics
    broker = make_broker(settings, client_id=f"projector-{settings.instance_id}", log=logger)
    db = open_database(settings)
    store = JobStore(db)
    react = reactor(topics)

    # NACK_ON_ERROR: if the database is away the batch is read again, never skipped.
    @broker.subscriber(
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
    )
    async def on_events(payloads: list[bytes]) -> None:
        await project(payloads, store, react)

    async def create_topics() -> None:
        await ensure_topics(settings, topics.all_topics())

    ping = make_ping_asgi(broker, timeout=5)
    return AsgiFastStream(
        broker,
        asgi_routes=[("/healthz", ping), ("/readyz", ping)],
        logger=logger,
        on_startup=[create_topics],
        after_shutdown=[db.dispose],
    )


def run() -> None:
    settings = ProjectorSettings()
    configure_process(settings, "projector")
    serve(create_app(settings), settings.projector_host, settings.projector_port)
