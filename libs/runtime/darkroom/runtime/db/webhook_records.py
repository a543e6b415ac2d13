"""Typed records of the webhook tables: a subscription, a delivery to make, a claimed attempt
and what it ended with."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from darkroom.contracts.webhooks import DeliveryStatus, WebhookEventType


@dataclass(frozen=True)
class Subscription:
    """A job's webhook, as stored at submit."""

    job_id: uuid.UUID
    user_id: str
    url: str
    events: frozenset[WebhookEventType]
    created_at: datetime


@dataclass(frozen=True)
class NewDelivery:
    """One accepted event to send; `webhook_id` derives from the event, so a second take-in of
    the same event adds nothing."""

    webhook_id: str
    subscription: Subscription
    event_id: uuid.UUID
    event_type: str
    occurred_at: datetime
    payload: str


@dataclass(frozen=True)
class ClaimedDelivery:
    """A delivery a sender claimed for one attempt (number `attempt`) until its claim expires."""

    webhook_id: str
    job_id: uuid.UUID
    user_id: str
    url: str
    event_type: str
    payload: str
    attempt: int
    created_at: datetime
    subscribed_at: datetime  # when the job asked (a 410 after that disables the delivery)
    claim_id: str


@dataclass(frozen=True)
class AttemptResult:
    """How one attempt ended, and what it makes of the delivery."""

    started_at: datetime
    duration_ms: int
    status_code: int | None
    error: str | None
    status: DeliveryStatus
    next_attempt_at: datetime | None
