"""A job's webhook deliveries and their attempts, as its owner sees them."""

from __future__ import annotations

import uuid
from collections import defaultdict
from typing import Any

from sqlalchemy import select

from darkroom.contracts.webhooks import DeliveryAttemptView, DeliveryStatus, DeliveryView
from darkroom.runtime.db.engine import Database
from darkroom.runtime.db.tables import webhook_attempts, webhook_deliveries

INTERRUPTED = "interrupted: the sender stopped before the answer (another attempt follows)"


async def deliveries_of(db: Database, job_id: uuid.UUID) -> list[DeliveryView]:
    """Every delivery of the job, oldest first, each with its attempts in order."""
    deliveries = (
        select(webhook_deliveries)
        .where(webhook_deliveries.c.job_id == str(job_id))
        .order_by(webhook_deliveries.c.created_at, webhook_deliveries.c.occurred_at)
    )
    attempts = (
        select(webhook_attempts)
        .join(
            webhook_deliveries,
            webhook_deliveries.c.webhook_id == webhook_attempts.c.webhook_id,
        )
        .where(webhook_deliveries.c.job_id == str(job_id))
        .order_by(webhook_attempts.c.webhook_id, webhook_attempts.c.attempt)
    )
    async with db.read() as conn:
        rows = (await conn.execute(deliveries)).all()
        by_delivery: dict[str, list[Any]] = defaultdict(list)
        for row in await conn.execute(attempts):
            by_delivery[row.webhook_id].append(row)
    return [_view(row, by_delivery[row.webhook_id]) for row in rows]


def _view(row: Any, attempts: list[Any]) -> DeliveryView:
    status = DeliveryStatus(row.status)
    return DeliveryView(
        webhook_id=row.webhook_id,
        event_type=row.event_type,
        event_id=uuid.UUID(row.event_id),
        url=row.url,
        status=status,
        created_at=row.created_at,
        next_attempt_at=row.next_attempt_at if status is DeliveryStatus.PENDING else None,
        attempts=[_attempt(a, row.attempts) for a in attempts],
    )


def _attempt(row: Any, last: int) -> DeliveryAttemptView:
    interrupted = row.duration_ms is None and row.attempt < last
    return DeliveryAttemptView(
        attempt=row.attempt,
        started_at=row.started_at,
        duration_ms=row.duration_ms,
        status_code=row.status_code,
        error=INTERRUPTED if interrupted else row.error,
    )
