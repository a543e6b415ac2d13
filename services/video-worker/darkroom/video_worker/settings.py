"""Settings of the video worker."""

from __future__ import annotations

from pydantic import Field

from darkroom.runtime.inputs import InputSettings
from darkroom.runtime.settings import BaseServiceSettings, KafkaSettings, ObservabilitySettings
from darkroom.runtime.storage.settings import StorageSettings
from darkroom.runtime.worker.settings import WorkerSettings


class VideoWorkerSettings(
    BaseServiceSettings,
    KafkaSettings,
    WorkerSettings,
    StorageSettings,
    ObservabilitySettings,
    InputSettings,
):
    """The video worker."""

    video_worker_host: str = Field("127.0.0.1", description="Address of the worker's /healthz.")
    video_worker_port: int = Field(8013, description="Port of the worker's /healthz.")
