"""Settings of the gateway, the outbox relay and the projector (one environment, three processes)."""

from __future__ import annotations

from pydantic import Field, PositiveInt

from darkroom.gateway.sweeper.settings import SweeperSettings
from darkroom.runtime.auth import DEFAULT_PRIORITY_CLAIM
from darkroom.runtime.inputs import InputSettings
from darkroom.runtime.settings import (
    BaseServiceSettings,
    DatabaseSettings,
    KafkaSettings,
    ObservabilitySettings,
    SecretsCheck,
)
from darkroom.runtime.storage.settings import StorageSettings


class GatewaySettings(
    SecretsCheck,
    KafkaSettings,
    DatabaseSettings,
    StorageSettings,
    ObservabilitySettings,
    SweeperSettings,
    InputSettings,
):
    """The HTTP API."""

    gateway_host: str = Field("127.0.0.1", description="Address the gateway listens on.")
    gateway_port: int = Field(8000, description="Port the gateway listens on.")
    notifier_public_url: str = Field(
        "http://127.0.0.1:8001", description="Public base URL of the notifier, for events_url."
    )
    max_page_size: PositiveInt = Field(100, description="Largest `limit` of a job list page.")
    priority_claim: str = Field(
        DEFAULT_PRIORITY_CLAIM,
        description="Token claim listing the priorities a caller may ask for: `priority: high` "
        'needs a token whose claim holds "high" (e.g. `["high"]`; `darkroom-token --priority '
        "high`), or an admin token; others get 403.",
    )


class RelaySettings(BaseServiceSettings, KafkaSettings, DatabaseSettings):
    """The outbox relay."""

    relay_batch_size: PositiveInt = Field(500, description="Outbox rows published per round.")
    relay_poll_interval_s: float | None = Field(
        None,
        gt=0,
        description="Sweep interval. Default 1 s: commits wake the relay at once (LISTEN/NOTIFY on "
        "PostgreSQL, a watch of PRAGMA data_version on SQLite); the sweep is the safety net.",
    )


class DeadLetterSettings(BaseServiceSettings, KafkaSettings, DatabaseSettings):
    """The dead-letter command line (`darkroom-dead-letters`): the broker and the job database."""


class ProjectorSettings(BaseServiceSettings, KafkaSettings, DatabaseSettings):
    """The projector: jobs.events -> job table and event history."""

    projector_host: str = Field(
        "127.0.0.1", description="Address of the projector's /healthz and /readyz."
    )
    projector_port: int = Field(8011, description="Port of the projector's /healthz and /readyz.")
    projector_batch_size: PositiveInt = Field(
        500, description="Events applied per transaction at most."
    )
