"""The image worker's app factory and entry point: wiring only."""

from __future__ import annotations

import logging

from faststream import AckPolicy
from faststream.asgi import AsgiFastStream, make_ping_asgi
from opentelemetry import trace

from darkroom.image_worker.handlers import WorkerDeps, decode_request, handle_image_requested
from darkroom.image_worker.providers import make_provider
from darkroom.image_worker.settings import ImageWorkerSettings
from darkroom.runtime.kafka import ensure_topics, event_emitter, make_broker, raw_body
from darkroom.runtime.serving import configure_process, serve
from darkroom.runtime.storage import make_object_store, prepare_object_store
from darkroom.runtime.telemetry import context_from

logger = logging.getLogger("darkroom.image_worker")
tracer = trace.get_tracer(__name__)


def create_app(settings: ImageWorkerSettings) -> AsgiFastStream:
    topics = settings.topics
    broker = make_broker(settings, client_id=f"image-worker-{settings.instance_id}", log=logger)

    provider = make_provider(
        "local",
        steps=settings.local_provider_steps,
        step_delay_s=settings.local_provider_step_delay_s,
    )
    emit = event_emitter(broker.publisher(topics.events))
    deps = WorkerDeps(provider, make_object_store(settings), emit, worker_id=settings.instance_id)

    # NACK_ON_ERROR: a request is committed only after its outcome event was acknowledged; if
    # emitting fails, the request is read again and re-run (same event ids, same asset keys).
    @broker.subscriber(
        topics.image_requested,
        group_id=topics.image_worker_group,
        auto_offset_reset="earliest",
        ack_policy=AckPolicy.NACK_ON_ERROR,
        session_timeout_ms=settings.kafka_session_timeout_ms,
        fetch_max_wait_ms=settings.kafka_fetch_max_wait_ms,
        decoder=raw_body,
        max_workers=settings.worker_concurrency,
    )
    async def on_image_requested(payload: bytes) -> None:
        if (request := decode_request(payload)) is None:
            return
        with tracer.start_as_current_span("image job", context=context_from(request.trace)):
            await handle_image_requested(request, deps)

    async def startup() -> None:
        await ensure_topics(settings, topics.all_topics())
        await prepare_object_store(deps.store)

    ping = make_ping_asgi(broker, timeout=5)
    return AsgiFastStream(
        broker,
        asgi_routes=[("/healthz", ping), ("/readyz", ping)],
        logger=logger,
        on_startup=[startup],
    )


def run() -> None:
    settings = ImageWorkerSettings()
    configure_process(settings, "image-worker")
    serve(create_app(settings), settings.image_worker_host, settings.image_worker_port)
