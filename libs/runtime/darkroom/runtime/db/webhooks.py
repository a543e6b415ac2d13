"""WebhookStore: subscriptions, deliveries and their attempts, and receivers disabled by a 410.

A delivery is claimed for one attempt by one sender at a time (a conditional write decides); a
sender that dies leaves a claim that expires, and another sender takes the delivery over with
the same `webhook_id`. Finishing an attempt is fenced by its claim: a late sender whose claim
was taken over changes nothing.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, insert, or_, select, update

from darkroom.contracts.webhooks import DeliveryStatus
from darkroom.runtime.db.engine import Database
from darkroom.runtime.db.store import dialect_insert
from darkroom.runtime.db.tables import (
    job_events,
    webhook_attempts,
    webhook_deliveries,
    webhook_disabled,
    webhook_subscriptions,
)
from darkroom.runtime.db.webhook_records import (
    AttemptResult,
    ClaimedDelivery,
    NewDelivery,
    Subscription,
)

_deliveries, _subs = webhook_deliveries, webhook_subscriptions


def _due(now: datetime) -> Any:
    """Pending, due, and not claimed by a live sender."""
    return and_(
        _deliveries.c.status == DeliveryStatus.PENDING.value,
        _deliveries.c.next_attempt_at <= now,
        or_(_deliveries.c.claimed_until.is_(None), _deliveries.c.claimed_until < now),
    )


class WebhookStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def subscriptions(self, job_ids: Collection[str]) -> dict[str, Subscription]:
        """The webhooks of those of `job_ids` that have one, by job id."""
        if not job_ids:
            return {}
        query = select(_subs).where(_subs.c.job_id.in_(list(job_ids)))
        async with self.db.read() as conn:
            rows = (await conn.execute(query)).all()
        return {
            row.job_id: Subscription(
                uuid.UUID(row.job_id), row.user_id, row.url, frozenset(row.events), row.created_at
            )
            for row in rows
        }

    async def recorded(self, event_ids: Collection[str]) -> dict[str, str | None]:
        """The events the projector has recorded among `event_ids`: each accepted one's JSON as
        the history keeps it (and the event stream sends it), None for one it refused; an event
        not recorded yet is absent."""
        if not event_ids:
            return {}
        query = select(job_events.c.event_id, job_events.c.accepted, job_events.c.payload).where(
            job_events.c.event_id.in_(list(event_ids))
        )
        async with self.db.read() as conn:
            return {
                row.event_id: row.payload if row.accepted else None
                for row in await conn.execute(query)
            }

    async def last_progress_at(self, job_id: str) -> datetime | None:
        """When the newest `job.progress` delivery of the job happened (for the throttle)."""
        query = select(func.max(_deliveries.c.occurred_at)).where(
            _deliveries.c.job_id == job_id, _deliveries.c.event_type == "job.progress"
        )
        async with self.db.read() as conn:
            value: datetime | None = (await conn.execute(query)).scalar()
        return value

    async def add(self, deliveries: Sequence[NewDelivery], now: datetime) -> None:
        """Store deliveries to make now; those already stored are left as they are."""
        if not deliveries:
            return
        rows = [_delivery_row(d, now) for d in deliveries]
        statement = dialect_insert(self.db)(_deliveries).on_conflict_do_nothing(
            index_elements=["webhook_id"]
        )
        async with self.db.write() as conn:
            await conn.execute(statement, rows)

    async def claim(
        self, limit: int, claim_id: str, now: datetime, until: datetime
    ) -> list[ClaimedDelivery]:
        """Claim up to `limit` due deliveries for one attempt each, recording the attempt."""
        pick = select(_deliveries.c.webhook_id).where(_due(now))
        pick = pick.order_by(_deliveries.c.next_attempt_at).limit(limit)
        async with self.db.write() as conn:
            ids = list((await conn.execute(pick)).scalars())
            if not ids:
                return []
            await conn.execute(
                update(_deliveries)
                .where(_deliveries.c.webhook_id.in_(ids), _due(now))
                .values(claim_id=claim_id, claimed_until=until, attempts=_deliveries.c.attempts + 1)
            )
            query = select(_deliveries, _subs.c.created_at.label("subscribed_at")).join(
                _subs, _subs.c.job_id == _deliveries.c.job_id
            )
            claimed = [
                _claimed(row)
                for row in await conn.execute(query.where(_deliveries.c.claim_id == claim_id))
            ]
            if claimed:
                await conn.execute(
                    insert(webhook_attempts), [_attempt_row(c, now) for c in claimed]
                )
        return claimed

    async def finish(self, delivery: ClaimedDelivery, result: AttemptResult) -> bool:
        """Record how the attempt ended; False (nothing written) if its claim was taken over."""
        finished = None if result.status is DeliveryStatus.PENDING else result.started_at
        async with self.db.write() as conn:
            changed = await conn.execute(
                update(_deliveries)
                .where(
                    _deliveries.c.webhook_id == delivery.webhook_id,
                    _deliveries.c.claim_id == delivery.claim_id,
                )
                .values(
                    status=result.status.value,
                    next_attempt_at=result.next_attempt_at,
                    claim_id=None,
                    claimed_until=None,
                    finished_at=finished,
                )
            )
            if changed.rowcount != 1:
                return False
            await conn.execute(
                update(webhook_attempts)
                .where(
                    webhook_attempts.c.webhook_id == delivery.webhook_id,
                    webhook_attempts.c.attempt == delivery.attempt,
                )
                .values(
                    duration_ms=result.duration_ms,
                    status_code=result.status_code,
                    error=result.error,
                )
            )
        return True

    async def next_due(self) -> datetime | None:
        """The earliest time a pending delivery is due (or its claim expires)."""
        due = func.coalesce(_deliveries.c.claimed_until, _deliveries.c.next_attempt_at)
        query = select(func.min(due)).where(_deliveries.c.status == DeliveryStatus.PENDING.value)
        async with self.db.read() as conn:
            value: datetime | None = (await conn.execute(query)).scalar()
        return value

    async def redrive(self, webhook_id: str, now: datetime) -> bool:
        """Make a failed delivery pending again, with a new retry window; False if it is not
        failed (or unknown)."""
        async with self.db.write() as conn:
            changed = await conn.execute(
                update(_deliveries)
                .where(
                    _deliveries.c.webhook_id == webhook_id,
                    _deliveries.c.status == DeliveryStatus.FAILED.value,
                )
                .values(
                    status=DeliveryStatus.PENDING.value,
                    created_at=now,
                    next_attempt_at=now,
                    finished_at=None,
                )
            )
        return bool(changed.rowcount == 1)

    async def disable(self, user_id: str, url: str, at: datetime) -> None:
        """The receiver answered 410 Gone at `at`."""
        row = {"user_id": user_id, "url_sha256": _url_hash(url), "url": url, "disabled_at": at}
        statement = dialect_insert(self.db)(webhook_disabled).values(row)
        statement = statement.on_conflict_do_update(
            index_elements=["user_id", "url_sha256"], set_={"disabled_at": at}
        )
        async with self.db.write() as conn:
            await conn.execute(statement)

    async def disabled_at(self, user_id: str, url: str) -> datetime | None:
        """When the receiver last answered 410 Gone, if it did."""
        query = select(webhook_disabled.c.disabled_at).where(
            webhook_disabled.c.user_id == user_id,
            webhook_disabled.c.url_sha256 == _url_hash(url),
        )
        async with self.db.read() as conn:
            value: datetime | None = (await conn.execute(query)).scalar()
        return value


def _url_hash(url: str) -> str:
    return hashlib.sha256(url.encode()).hexdigest()


def _delivery_row(delivery: NewDelivery, now: datetime) -> dict[str, Any]:
    sub = delivery.subscription
    return {
        "webhook_id": delivery.webhook_id,
        "job_id": str(sub.job_id),
        "user_id": sub.user_id,
        "url": sub.url,
        "event_id": str(delivery.event_id),
        "event_type": delivery.event_type,
        "occurred_at": delivery.occurred_at,
        "payload": delivery.payload,
        "status": DeliveryStatus.PENDING.value,
        "attempts": 0,
        "created_at": now,
        "next_attempt_at": now,
    }


def _claimed(row: Any) -> ClaimedDelivery:
    return ClaimedDelivery(
        webhook_id=row.webhook_id,
        job_id=uuid.UUID(row.job_id),
        user_id=row.user_id,
        url=row.url,
        event_type=row.event_type,
        payload=row.payload,
        attempt=row.attempts,
        created_at=row.created_at,
        subscribed_at=row.subscribed_at,
        claim_id=row.claim_id,
    )


def _attempt_row(delivery: ClaimedDelivery, now: datetime) -> dict[str, Any]:
    return {"webhook_id": delivery.webhook_id, "attempt": delivery.attempt, "started_at": now}
