"""Webhooks: what a job asks to be told (`webhook_url`, `webhook_events`), what its deliveries
look like to its owner (`GET /v1/jobs/{id}/deliveries`), and the dead letter of a delivery that
gave up. Deliveries follow the Standard Webhooks specification (standardwebhooks.com)."""

from __future__ import annotations

import uuid
from enum import StrEnum
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from darkroom.contracts.events import TERMINAL_EVENT_TYPES

WebhookEventType = Literal[
    "job.queued",
    "job.started",
    "job.progress",
    "job.retrying",
    "job.requeued",
    "job.completed",
    "job.completed_with_errors",
    "job.failed",
    "job.cancelled",
]
DEFAULT_WEBHOOK_EVENTS: tuple[WebhookEventType, ...] = tuple(sorted(TERMINAL_EVENT_TYPES))  # type: ignore[arg-type]
# At most one `job.progress` delivery per job in this many seconds (the others are not sent).
PROGRESS_INTERVAL_S = 1.0


class WebhookSubscription(BaseModel):
    """Where a job's events go and which ones: stored with the job at submit."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    url: str = Field(description="The receiver's http(s) URL.")
    events: tuple[WebhookEventType, ...] = Field(
        DEFAULT_WEBHOOK_EVENTS, description="The event types sent."
    )


class DeliveryStatus(StrEnum):
    """Where one delivery is: `pending` until an attempt gets a 2xx (`delivered`), the retry
    window ends (`failed`, then dead-lettered) or the receiver answers 410 (`disabled`)."""

    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"
    DISABLED = "disabled"


class DeliveryAttemptView(BaseModel):
    """One attempt to deliver."""

    attempt: int = Field(ge=1, description="1 for the first attempt.")
    started_at: AwareDatetime
    duration_ms: int | None = Field(description="None while it runs (or if the sender died).")
    status_code: int | None = Field(description="The receiver's HTTP status; None if none.")
    error: str | None = Field(description="Why the attempt failed, if it did.")


class DeliveryView(BaseModel):
    """One event's delivery to the job's webhook: `webhook_id` is the `webhook-id` header, the
    same on every attempt (receivers deduplicate on it)."""

    webhook_id: str
    event_type: str
    event_id: uuid.UUID
    url: str
    status: DeliveryStatus
    created_at: AwareDatetime
    next_attempt_at: AwareDatetime | None = Field(description="When it is tried next, if pending.")
    attempts: list[DeliveryAttemptView]


class DeliveryList(BaseModel):
    """`GET /v1/jobs/{id}/deliveries`: the job's webhook deliveries, oldest first."""

    job_id: uuid.UUID
    deliveries: list[DeliveryView]


class WebhookSecret(BaseModel):
    """`GET /v1/webhooks/secret`: the caller's signing secret, to verify deliveries with."""

    secret: str = Field(description="Standard Webhooks secret (`whsec_` + base64).")
    algorithm: Literal["v1"] = Field("v1", description="HMAC-SHA256, as `webhook-signature`.")


class WebhookDeadLetter(BaseModel):
    """A delivery that gave up (its retry window ended), on the webhook dead-letter topic, from
    which it can be sent again."""

    model_config = ConfigDict(extra="ignore")

    webhook_id: str
    job_id: uuid.UUID
    user_id: str
    url: str
    event_type: str
    payload: str = Field(description="The event, as the body of every attempt.")
    attempts: int
    last_error: str | None
    failed_at: AwareDatetime
