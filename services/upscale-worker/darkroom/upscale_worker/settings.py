"""Settings of the upscale worker (upscale and variants jobs)."""

from __future__ import annotations

from pydantic import Field

from darkroom.runtime.inputs import InputSettings
from darkroom.runtime.settings import BaseServiceSettings, KafkaSettings, ObservabilitySettings
from darkroom.runtime.storage.settings import StorageSettings
from darkroom.runtime.worker.settings import WorkerSettings


class UpscaleWorkerSettings(
    BaseServiceSettings,
    KafkaSettings,
    WorkerSettings,
    StorageSettings,
    ObservabilitySettings,
    InputSettings,
):
    """The upscale worker (UPSCALE_MAX_OUTPUT_PIXELS is an input setting: the gateway reads it)."""

    upscale_worker_host: str = Field("127.0.0.1", description="Address of the worker's /healthz.")
    upscale_worker_port: int = Field(8012, description="Port of the worker's /healthz.")
