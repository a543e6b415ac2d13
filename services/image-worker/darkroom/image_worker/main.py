"""The image worker's app factory and entry point: wiring only."""

from __future__ import annotations

import logging
from functools import partial

from starlette.applications import Starlette

from darkroom.contracts.jobtypes import JobType
from darkroom.contracts.requests import ImageJobRequested
from darkroom.image_worker.handlers import WorkerDeps, generate_images
from darkroom.image_worker.providers import image_providers
from darkroom.image_worker.settings import ImageWorkerSettings
from darkroom.runtime.broker_watch import BrokerWatch
from darkroom.runtime.kafka import Emit, ensure_topics
from darkroom.runtime.providers import Registry
from darkroom.runtime.serving import configure_process, serve
from darkroom.runtime.storage import make_object_store, prepare_object_store
from darkroom.runtime.worker import JobKind, Work, WorkerParts, assemble, worker_app

logger = logging.getLogger("darkroom.image_worker")


def create_app(settings: ImageWorkerSettings) -> Starlette:
    topics = settings.topics
    store = make_object_store(settings)
    registry = Registry.installed()

    def build() -> WorkerParts:
        providers = image_providers(registry)

        def work(emit: Emit) -> Work[ImageJobRequested]:
            deps = WorkerDeps(
                providers,
                store,
                emit,
                settings.local_provider_fail_attempts,
                settings.local_provider_fail_marker,
            )
            return partial(generate_images, deps=deps)

        kind = JobKind(JobType.IMAGE, ImageJobRequested, work)
        return assemble(settings, f"image-worker-{settings.instance_id}", [kind])

    async def startup() -> None:
        await ensure_topics(settings, topics.all_topics())
        await prepare_object_store(store)

    watch = BrokerWatch(settings, f"image-worker-{settings.instance_id}")
    return worker_app(build, watch, on_startup=[startup])


def run() -> None:
    settings = ImageWorkerSettings()
    configure_process(settings, "image-worker")
    serve(create_app(settings), settings.image_worker_host, settings.image_worker_port)
