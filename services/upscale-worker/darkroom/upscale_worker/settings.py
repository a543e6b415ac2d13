"""Settings of the upscale worker (upscale and variants jobs)."""

from __future__ import annotations

from pydantic import Field, PositiveInt

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
    """The upscale worker."""

    upscale_worker_host: str = Field("127.0.0.1", description="Address of the worker's /healthz.")
    upscale_worker_port: int = Field(8012, description="Port of the worker's /healthz.")
    upscale_max_output_pixels: PositiveInt = Field(
        64_000_000,
        description="Largest output of an upscale or variant, in pixels (a 2000x2000 input x4 is "
        "64 MP); bigger ones fail as invalid input.",
    )
