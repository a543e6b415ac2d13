"""Settings of the gateway, the outbox relay and the projector (one environment, three processes)."""

from __future__ import annotations

from pydantic import Field, PositiveInt

from darkroom.runtime.settings import (
    BaseServiceSettings,
    DatabaseSettings,
    KafkaSettings,
    ObservabilitySettings,
    SecretsCheck,
)
from darkroom.runtime.storage.settings import StorageSettings


class GatewaySettings(
    SecretsCheck, KafkaSettings, DatabaseSettings, StorageSettings, ObservabilitySettings
):
    """The HTTP API."""

    gateway_host: str = Field("127.0.0.1", description="Address the gateway listens on.")
    gateway_port: int = Field(8000, description="Port the gateway listens on.")
    notifier_public_url: str = Field(
        "http://127.0.0.1:8001", description="Public base URL of the notifier, for events_url."
    )
    max_page_size: PositiveInt = Field(100, description="Largest `limit` of a job list page.")


class RelaySettings(BaseServiceSettings, KafkaSettings, DatabaseSettings):
    """The outbox relay."""

    relay_batch_size: PositiveInt = Field(500, description="Outbox rows published per round.")
    relay_poll_interval_s: float | None = Field(
        None,
        gt=0,
        description="Sweep interval. Default: 1 s on PostgreSQL (LISTEN/NOTIFY wakes the relay at "
        "once), 0.01 s on SQLite (which has no notifications).",
    )


class ProjectorSettings(BaseServiceSettings, KafkaSettings, DatabaseSettings):
    """The projector: jobs.events -> job table and event history."""

    projector_host: str = Field(
        "127.0.0.1", description="Address of the projector's /healthz and /readyz."
    )
    projector_port: int = Field(8011, description="Port of the projector's /healthz and /readyz.")
    projector_batch_size: PositiveInt = Field(
        500, description="Events applied per transaction at most."
    )
