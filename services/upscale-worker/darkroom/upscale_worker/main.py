"""The upscale worker's app factory and entry point: wiring only.

It runs two job types, both image transforms with the same inputs and limits: upscale, and
variants (the responsive set a chain ends with), each through the provider plug-in a job names.
"""

from __future__ import annotations

from functools import partial

from starlette.applications import Starlette

from darkroom.contracts.jobtypes import JobType
from darkroom.contracts.requests import UpscaleJobRequested, VariantsJobRequested
from darkroom.runtime.broker_watch import BrokerWatch
from darkroom.runtime.kafka import Emit, ensure_topics
from darkroom.runtime.providers import Registry
from darkroom.runtime.serving import configure_process, serve
from darkroom.runtime.storage import make_object_store, prepare_object_store
from darkroom.runtime.worker import JobKind, Work, WorkerParts, assemble, worker_app
from darkroom.upscale_worker.handlers import WorkerDeps, make_variants, upscale_image
from darkroom.upscale_worker.providers import upscalers, variant_makers
from darkroom.upscale_worker.settings import UpscaleWorkerSettings


def create_app(settings: UpscaleWorkerSettings) -> Starlette:
    store = make_object_store(settings)
    registry = Registry.installed()

    def build() -> WorkerParts:
        ups, makers = upscalers(registry), variant_makers(registry)

        def upscales(emit: Emit) -> Work[UpscaleJobRequested]:
            return partial(upscale_image, deps=WorkerDeps(ups, makers, store, emit, settings))

        def variant_sets(emit: Emit) -> Work[VariantsJobRequested]:
            return partial(make_variants, deps=WorkerDeps(ups, makers, store, emit, settings))

        kinds = [
            JobKind(JobType.UPSCALE, UpscaleJobRequested, upscales),
            JobKind(JobType.VARIANTS, VariantsJobRequested, variant_sets),
        ]
        return assemble(settings, f"upscale-worker-{settings.instance_id}", kinds)

    async def startup() -> None:
        await ensure_topics(settings, settings.topics.all_topics())
        await prepare_object_store(store)

    watch = BrokerWatch(settings, f"upscale-worker-{settings.instance_id}")
    return worker_app(build, watch, on_startup=[startup])


def run() -> None:
    settings = UpscaleWorkerSettings()
    configure_process(settings, "upscale-worker")
    serve(create_app(settings), settings.upscale_worker_host, settings.upscale_worker_port)
