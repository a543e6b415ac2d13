"""Webhook routes: a job's deliveries and their attempts (its owner only), and the caller's
signing secret."""

from __future__ import annotations

import uuid

from fastapi import APIRouter

from darkroom.contracts.webhooks import DeliveryList, WebhookSecret
from darkroom.gateway.deps import CurrentUser, RejectUnknownQuery, ServicesDep
from darkroom.gateway.routes.jobs import owned_job
from darkroom.gateway.webhooks.signing import user_secret
from darkroom.runtime.db.webhook_history import deliveries_of

router = APIRouter(tags=["webhooks"], dependencies=[RejectUnknownQuery])


@router.get(
    "/v1/jobs/{job_id}/deliveries",
    response_model=DeliveryList,
    summary="A job's webhook deliveries and each attempt",
)
async def list_deliveries(
    job_id: uuid.UUID, user: CurrentUser, services: ServicesDep
) -> DeliveryList:
    """Each event sent (or to send) to the job's `webhook_url`, oldest first: its `webhook_id`
    (the same on every attempt), its status, and each attempt's status code, duration and
    error. Another user's job is a 404."""
    await owned_job(services.store, job_id, user)
    return DeliveryList(job_id=job_id, deliveries=await deliveries_of(services.db, job_id))


@router.get(
    "/v1/webhooks/secret", response_model=WebhookSecret, summary="Your webhook signing secret"
)
async def webhook_secret(user: CurrentUser, services: ServicesDep) -> WebhookSecret:
    """The secret that signs the deliveries of your jobs (Standard Webhooks: verify the
    `webhook-signature` header with it; see docs/webhooks.md)."""
    return WebhookSecret(secret=user_secret(services.settings.webhook_signing_key, user.user_id))
