"""Settings of the gateway, the outbox relay and the projector (one environment, three processes)."""

from __future__ import annotations

from typing import Self

from pydantic import Field, PositiveInt, field_validator, model_validator

from darkroom.gateway.sweeper.settings import SweeperSettings
from darkroom.gateway.webhooks.settings import WebhookTargetSettings
from darkroom.runtime.auth import DEFAULT_PRIORITY_CLAIM
from darkroom.runtime.inputs import InputSettings
from darkroom.runtime.settings import (
    BaseServiceSettings,
    DatabaseSettings,
    KafkaSettings,
    NotifierAddress,
    ObservabilitySettings,
    SecretsCheck,
    local_url,
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
    NotifierAddress,
    WebhookTargetSettings,
):
    """The HTTP API. It listens on GATEWAY_HOST:GATEWAY_PORT (`GatewayAddress`, through
    `StorageSettings`)."""

    notifier_public_url: str = Field(
        "http://127.0.0.1:8001",
        description="Public base URL of the notifier, for events_url. "
        "Unset: http://NOTIFIER_HOST:NOTIFIER_PORT, with 127.0.0.1 for a 0.0.0.0 bind.",
    )
    max_page_size: PositiveInt = Field(100, description="Largest `limit` of a job list page.")
    max_body_bytes: PositiveInt = Field(
        1024 * 1024,
        description="Largest request body of a JSON route, bytes: a larger one is refused with 413 "
        "before it is parsed (by Content-Length, or counted as it streams). Uploads are limited "
        "by INPUT_MAX_BYTES instead.",
    )
    priority_claim: str = Field(
        DEFAULT_PRIORITY_CLAIM,
        description="Token claim listing the priorities a caller may ask for: `priority: high` "
        'needs a token whose claim holds "high" (e.g. `["high"]`; `darkroom-token --priority '
        "high`), or an admin token; others get 403.",
    )

    @field_validator("notifier_public_url")
    @classmethod
    def _notifier_url_without_trailing_slash(cls, value: str) -> str:
        return value.rstrip("/")

    @model_validator(mode="after")
    def _derive_notifier_public_url(self) -> Self:
        if "notifier_public_url" not in self.model_fields_set:
            self.notifier_public_url = local_url(self.notifier_host, self.notifier_port)
        return self


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
