"""Settings of the image worker."""

from __future__ import annotations

from pydantic import Field, PositiveInt

from darkroom.runtime.settings import BaseServiceSettings, KafkaSettings, ObservabilitySettings
from darkroom.runtime.storage.settings import StorageSettings


class ImageWorkerSettings(
    BaseServiceSettings, KafkaSettings, StorageSettings, ObservabilitySettings
):
    """The image worker."""

    image_worker_host: str = Field("127.0.0.1", description="Address of the worker's /healthz.")
    image_worker_port: int = Field(8010, description="Port of the worker's /healthz.")
    worker_concurrency: PositiveInt = Field(
        4,
        description="Jobs processed at once: one consumer per slot, concurrent between partitions, each "
        "committing its own partitions after the outcome is acknowledged (at most the topic's partitions).",
    )
    local_provider_steps: PositiveInt = Field(
        4, ge=3, description="Progress steps of the local provider."
    )
    local_provider_step_delay_s: float = Field(
        0.0, ge=0, description="Sleep per step of the local provider, so a demo shows progress."
    )
