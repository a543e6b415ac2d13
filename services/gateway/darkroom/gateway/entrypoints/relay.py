"""The outbox relay process (`darkroom-relay`): wiring only."""

from __future__ import annotations

import asyncio

from darkroom.gateway.relay import OutboxRelay
from darkroom.gateway.settings import RelaySettings
from darkroom.runtime.db import JobStore, open_database
from darkroom.runtime.db.notify import outbox_notifications
from darkroom.runtime.kafka import ensure_topics, make_producer, start_producer
from darkroom.runtime.lifecycle import run_until_signal
from darkroom.runtime.serving import configure_process


async def serve(settings: RelaySettings) -> None:
    await ensure_topics(settings, settings.topics.all_topics())
    db = open_database(settings)
    producer = make_producer(settings, client_id=f"relay-{settings.instance_id}")
    await start_producer(producer)
    relay = OutboxRelay(JobStore(db), producer, settings.topics.events, settings.relay_batch_size)
    try:
        async with outbox_notifications(db, relay.wakeup.set) as notified:
            interval = settings.relay_poll_interval_s or (1.0 if notified else 0.01)
            await run_until_signal(relay.run(interval))
    finally:
        await producer.stop()
        await db.dispose()


def run() -> None:
    settings = RelaySettings()
    configure_process(settings, "relay")
    asyncio.run(serve(settings))
