"""The image worker's app factory and entry point: wiring only."""

from __future__ import annotations

import logging
from functools import partial

from starlette.applications import Starlette

from darkroom.contracts.jobtypes import JobType
from darkroom.contracts.requests import ImageJobRequested
from darkroom.image_worker.handlers import WorkerDeps, generate_images
from darkroom.image_worker.providers import make_provider
from darkroom.image_worker.settings import ImageWorkerSettings
from darkroom.runtime.kafka import (
    KafkaProbe,
    ensure_topics,
    event_emitter,
    make_producer,
    message_sender,
)
from darkroom.runtime.serving import configure_process, serve
from darkroom.runtime.storage import make_object_store, prepare_object_store
from darkroom.runtime.worker import (
    AttemptPorts,
    CancelRegistry,
    ControlTail,
    JobConsumer,
    WorkerParts,
    consumer_options,
    request_handler,
    retry_mover,
    worker_app,
)

logger = logging.getLogger("darkroom.image_worker")


def create_app(settings: ImageWorkerSettings) -> Starlette:
    topics = settings.topics
    store = make_object_store(settings)
    client_id = f"image-worker-{settings.instance_id}"

    def build() -> WorkerParts:
        producer = make_producer(settings, client_id=client_id)
        emit, send = event_emitter(producer, topics.events), message_sender(producer)
        provider = make_provider(
            "local",
            steps=settings.local_provider_steps,
            step_delay_s=settings.local_provider_step_delay_s,
        )
        deps = WorkerDeps(provider, store, emit, settings.local_provider_fail_attempts)
        cancels = CancelRegistry()
        ports = AttemptPorts(
            JobType.IMAGE,
            emit,
            send,
            topics,
            settings.retry_policy,
            settings.instance_id,
            settings.limits,
            cancels,
        )
        control = ControlTail(
            settings.kafka_bootstrap_servers,
            topics.control,
            cancels,
            settings.kafka_fetch_max_wait_ms,
        )
        handle = request_handler(ImageJobRequested, ports, partial(generate_images, deps=deps))
        requests = JobConsumer(
            consumer_options(
                settings,
                settings.request_topics(topics.request_topics(JobType.IMAGE)),
                topics.image_worker_group,
                client_id,
            ),
            handle,
        )
        retries = JobConsumer(
            consumer_options(
                settings,
                {topics.image_retry: 1},
                topics.image_retry_group,
                client_id,
                concurrency=settings.worker_retry_capacity,
            ),
            retry_mover(send),
        )
        return WorkerParts([control, requests, retries], producer)

    async def startup() -> None:
        await ensure_topics(settings, topics.all_topics())
        await prepare_object_store(store)

    return worker_app(build, KafkaProbe(settings), on_startup=[startup])


def run() -> None:
    settings = ImageWorkerSettings()
    configure_process(settings, "image-worker")
    serve(create_app(settings), settings.image_worker_host, settings.image_worker_port)
