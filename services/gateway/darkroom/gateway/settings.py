"""Settings of the gateway, the outbox relay and the projector (one environment, three processes)."""

from __future__ import annotations

from pydantic import Field, PositiveInt
from pydantic_settings import BaseSettings, SettingsConfigDict

from darkroom.runtime.inputs import InputSettings
from darkroom.runtime.settings import (
    BaseServiceSettings,
    DatabaseSettings,
    KafkaSettings,
    ObservabilitySettings,
    SecretsCheck,
)
from darkroom.runtime.storage.settings import StorageSettings


class SweeperSettings(BaseSettings):
    """The sweeper of stalled jobs, which runs in the gateway (one replica at a time)."""

    model_config = SettingsConfigDict(extra="ignore", env_ignore_empty=True)

    sweeper_enabled: bool = Field(True, description="Run the sweeper of stalled jobs.")
    sweeper_interval_s: float = Field(10.0, gt=0, description="How often the sweeper looks.")
    sweeper_queued_after_s: float = Field(
        600.0,
        gt=0,
        description="A queued or retrying job with no event for this long is queued again.",
    )
    sweeper_stalled_after_s: float = Field(
        120.0,
        gt=0,
        description="A running job with no event (workers heartbeat every JOB_HEARTBEAT_S) for this "
        "long gets a new attempt.",
    )
    sweeper_max_attempts: PositiveInt = Field(
        5, description="A stalled running job past this attempt is failed (code `stalled`)."
    )
    sweeper_batch_size: PositiveInt = Field(500, description="Jobs swept per pass, per state.")


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
