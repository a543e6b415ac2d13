"""Settings of the notifier."""

from __future__ import annotations

from pydantic import Field, PositiveInt

from darkroom.runtime.settings import (
    DatabaseSettings,
    KafkaSettings,
    NotifierAddress,
    ObservabilitySettings,
    SecretsCheck,
)


class NotifierSettings(
    SecretsCheck, KafkaSettings, DatabaseSettings, ObservabilitySettings, NotifierAddress
):
    """The SSE notifier, on NOTIFIER_HOST:NOTIFIER_PORT (`NotifierAddress`)."""

    sse_ping_s: float = Field(
        15.0, gt=0, description="Keep-alive comment interval of open streams."
    )
    sse_queue_size: PositiveInt = Field(
        10_000,
        description="Live events queued per stream (about 300 bytes each) before a client that reads "
        "too slowly is cut off; it reconnects and resumes with Last-Event-ID.",
    )
    terminal_settle_s: float = Field(
        10.0,
        ge=0,
        description="A stream sends only what the database has recorded; while it waits for the "
        "projector it logs a warning this often (seconds).",
    )
    recent_jobs: PositiveInt = Field(10_000, description="Jobs whose latest events stay in memory.")
    recent_events_per_job: PositiveInt = Field(
        256, description="Latest events kept per job in memory."
    )
    cors_allow_origins: list[str] = Field(
        default_factory=list, description="Browser origins allowed to open streams (JSON list)."
    )
