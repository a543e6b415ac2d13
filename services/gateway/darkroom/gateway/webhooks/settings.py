"""The webhooks' settings: where deliveries may go and how they are signed (the gateway checks a
`webhook_url` at submit with the same rules), and how the sender retries."""

from __future__ import annotations

from pydantic import Field, PositiveFloat, PositiveInt, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from darkroom.media.fetch import FetchPolicy
from darkroom.runtime.settings import (
    DEV_SECRET_PREFIX,
    DatabaseSettings,
    KafkaSettings,
    SecretsCheck,
)


class WebhookTargetSettings(BaseSettings):
    """Which receivers are allowed, how long one may take, and the key every user's signing
    secret derives from."""

    model_config = SettingsConfigDict(extra="ignore", env_ignore_empty=True)

    webhook_signing_key: SecretStr = Field(
        SecretStr(f"{DEV_SECRET_PREFIX}webhook-signing-key-change-me"),
        min_length=32,
        description="Key each user's webhook secret is derived from (GET /v1/webhooks/secret); "
        "changing it changes every user's secret.",
    )
    webhook_timeout_s: PositiveFloat = Field(
        10.0, description="Longest wait for a receiver's answer, connection included."
    )
    webhook_allow_loopback: bool = Field(
        False, description="Allow receivers on loopback addresses (tests and local demos only)."
    )
    webhook_allow_private: bool = Field(
        False,
        description="Allow receivers on private and link-local addresses (never cloud metadata).",
    )

    @property
    def webhook_policy(self) -> FetchPolicy:
        """The address rules and bounds of a delivery (no redirect is followed)."""
        return FetchPolicy(
            max_bytes=4096,
            timeout_s=self.webhook_timeout_s,
            max_redirects=0,
            allow_loopback=self.webhook_allow_loopback,
            allow_private=self.webhook_allow_private,
        )


class WebhookSettings(SecretsCheck, KafkaSettings, DatabaseSettings, WebhookTargetSettings):
    """The webhook sender (`darkroom-webhooks`): any number of replicas share the work."""

    webhooks_host: str = Field("127.0.0.1", description="Address of its /healthz and /readyz.")
    webhooks_port: int = Field(8014, description="Port of its /healthz and /readyz.")
    webhook_retry_window_s: PositiveFloat = Field(
        86400.0, description="How long a delivery is retried before it is dead-lettered."
    )
    webhook_retry_base_s: PositiveFloat = Field(
        5.0, description="Wait after the first failed attempt; doubled after each, with jitter."
    )
    webhook_retry_max_s: PositiveFloat = Field(
        3600.0, description="Longest wait between two attempts (a Retry-After may ask longer)."
    )
    webhook_claim_s: PositiveFloat = Field(
        60.0,
        description="How long an attempt is a sender's own: if the sender dies, another takes "
        "the delivery over after this (keep it above WEBHOOK_TIMEOUT_S).",
    )
    webhook_poll_s: PositiveFloat = Field(
        5.0,
        description="How often an idle sender looks for deliveries it was not woken for (another "
        "replica's, a redrive's, a dead sender's expired claims).",
    )
    webhook_concurrency: PositiveInt = Field(32, description="Deliveries in flight per replica.")
    webhook_intake_batch_size: PositiveInt = Field(
        500, description="Events read per batch from the events topic."
    )
