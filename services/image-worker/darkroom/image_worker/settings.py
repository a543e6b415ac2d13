"""Settings of the image worker."""

from __future__ import annotations

from pydantic import Field

from darkroom.image_worker.providers.local import LocalProviderSettings
from darkroom.runtime.settings import BaseServiceSettings, KafkaSettings, ObservabilitySettings
from darkroom.runtime.storage.settings import StorageSettings
from darkroom.runtime.worker.settings import WorkerSettings


class ImageWorkerSettings(
    BaseServiceSettings,
    KafkaSettings,
    WorkerSettings,
    StorageSettings,
    ObservabilitySettings,
    LocalProviderSettings,
):
    """The image worker."""

    image_worker_host: str = Field("127.0.0.1", description="Address of the worker's /healthz.")
    image_worker_port: int = Field(8010, description="Port of the worker's /healthz.")
    local_provider_fail_attempts: int = Field(
        0,
        ge=0,
        description="Fault injection (tests, demos): the first N attempts of every job fail with a "
        "retryable 'provider unavailable' error after their progress steps.",
    )
    local_provider_fail_marker: str | None = Field(
        None,
        min_length=1,
        description="Fault injection (tests, demos): a prompt containing this text is refused "
        "(a permanent content_refused failure), e.g. to fail chosen children of a batch.",
    )
