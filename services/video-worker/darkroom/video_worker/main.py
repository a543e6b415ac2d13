"""The video worker's app factory and entry point: wiring only."""

from __future__ import annotations

from functools import partial

from starlette.applications import Starlette

from darkroom.contracts.jobtypes import JobType
from darkroom.contracts.requests import VideoJobRequested
from darkroom.runtime.broker_watch import BrokerWatch
from darkroom.runtime.kafka import Emit, ensure_topics
from darkroom.runtime.providers import Registry
from darkroom.runtime.serving import configure_process, serve
from darkroom.runtime.storage import make_object_store, prepare_object_store
from darkroom.runtime.worker import JobKind, Work, WorkerParts, assemble, worker_app
from darkroom.video_worker.handlers import WorkerDeps, render_clip
from darkroom.video_worker.providers import video_providers
from darkroom.video_worker.settings import VideoWorkerSettings


def create_app(settings: VideoWorkerSettings) -> Starlette:
    store = make_object_store(settings)
    registry = Registry.installed()

    def build() -> WorkerParts:
        providers = video_providers(registry)

        def work(emit: Emit) -> Work[VideoJobRequested]:
            return partial(render_clip, deps=WorkerDeps(providers, store, emit, settings))

        kind = JobKind(JobType.VIDEO, VideoJobRequested, work)
        return assemble(settings, f"video-worker-{settings.instance_id}", [kind])

    async def startup() -> None:
        await ensure_topics(settings, settings.topics.all_topics())
        await prepare_object_store(store)

    watch = BrokerWatch(settings, f"video-worker-{settings.instance_id}")
    return worker_app(build, watch, on_startup=[startup])


def run() -> None:
    settings = VideoWorkerSettings()
    configure_process(settings, "video-worker")
    serve(create_app(settings), settings.video_worker_host, settings.video_worker_port)
