"""The sender: claims due deliveries, POSTs each signed to its receiver, records the attempt and
what it makes of the delivery (`policy`), dead-letters those that gave up.

Any number of replicas share the work through the claims (`WebhookStore.claim`). The loop wakes
when the intake adds deliveries, when the next retry is due, and every WEBHOOK_POLL_S otherwise
(for deliveries another replica added or an operator redrove, and claims of a dead sender that
expired).
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta

from darkroom.contracts.envelope import utcnow
from darkroom.contracts.webhooks import DeliveryStatus, WebhookDeadLetter
from darkroom.gateway.webhooks.policy import Answer, RetryRules, after_attempt, classify
from darkroom.gateway.webhooks.settings import WebhookSettings
from darkroom.gateway.webhooks.signing import signed_headers, user_secret
from darkroom.media.fetch import FetchFailed, FetchRefused
from darkroom.media.post import PostAnswer, post
from darkroom.runtime.db.webhook_records import AttemptResult, ClaimedDelivery
from darkroom.runtime.db.webhooks import WebhookStore

logger = logging.getLogger(__name__)
ERROR_CHARS = 300

DeadLetters = Callable[[WebhookDeadLetter], Awaitable[None]]


@dataclass
class Dispatcher:
    store: WebhookStore
    settings: WebhookSettings
    dead_letter: DeadLetters
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    _running: set[asyncio.Task[None]] = field(default_factory=set)
    _stopping: bool = False
    _task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Run in the background until `close`."""
        self._task = asyncio.create_task(self.run())

    async def close(self) -> None:
        """Stop; attempts in flight get WEBHOOK_TIMEOUT_S to end, then are cut off."""
        self.stop()
        if self._task is not None:
            _, late = await asyncio.wait([self._task], timeout=self.settings.webhook_timeout_s + 1)
            for task in late:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)

    async def problem(self) -> str | None:
        """Why it is not ready (a readiness check), or None."""
        return None if self._task is not None and not self._task.done() else "the sender stopped"

    @property
    def rules(self) -> RetryRules:
        s = self.settings
        return RetryRules(s.webhook_retry_window_s, s.webhook_retry_base_s, s.webhook_retry_max_s)

    def stop(self) -> None:
        """Claim no more: `run` returns once the attempts in flight are recorded."""
        self._stopping = True
        self.wake.set()

    async def run(self) -> None:
        """Deliver until stopped (or cancelled: attempts in flight are then cancelled, their
        claims expire and another sender, or this one restarted, tries again with the same
        webhook id)."""
        try:
            while not self._stopping:
                self.wake.clear()
                free = self.settings.webhook_concurrency - len(self._running)
                claimed = await self._claim(free) if free > 0 else []
                for delivery in claimed:
                    task = asyncio.create_task(self.deliver(delivery))
                    self._running.add(task)
                    task.add_done_callback(self._done)
                if not claimed and not self._stopping:
                    await self._idle()
            await asyncio.gather(*self._running, return_exceptions=True)
        finally:
            for task in list(self._running):
                task.cancel()
            await asyncio.gather(*self._running, return_exceptions=True)

    async def _claim(self, limit: int) -> list[ClaimedDelivery]:
        now = utcnow()
        until = now + timedelta(seconds=self.settings.webhook_claim_s)
        try:
            return await self.store.claim(limit, str(uuid.uuid4()), now, until)
        except Exception:
            logger.exception("cannot claim webhook deliveries; trying again")
            await asyncio.sleep(1.0)
            return []

    async def _idle(self) -> None:
        wait = self.settings.webhook_poll_s
        if len(self._running) < self.settings.webhook_concurrency:
            due = await self.store.next_due()
            if due is not None:
                wait = min(wait, max(0.0, (due - utcnow()).total_seconds()) + 0.01)
        try:
            await asyncio.wait_for(self.wake.wait(), timeout=wait)
        except TimeoutError:
            pass

    def _done(self, task: asyncio.Task[None]) -> None:
        self._running.discard(task)
        if not task.cancelled() and (exc := task.exception()) is not None:
            logger.error("a webhook attempt failed to be recorded: %r", exc)
        self.wake.set()  # a slot is free

    async def deliver(self, delivery: ClaimedDelivery) -> None:
        """One attempt, recorded; a receiver disabled by a 410 since the job asked is not sent."""
        started, clock = utcnow(), time.monotonic()
        disabled = await self.store.disabled_at(delivery.user_id, delivery.url)
        if disabled is not None and disabled >= delivery.subscribed_at:
            note = f"not sent: the receiver answered 410 Gone at {disabled.isoformat()}"
            result = AttemptResult(started, 0, None, note, DeliveryStatus.DISABLED, None)
        else:
            answer, error = await self._send(delivery)
            status = answer.status if answer else None
            outcome = after_attempt(
                classify(status),
                delivery.attempt,
                delivery.created_at,
                utcnow(),
                self.rules,
                answer.retry_after_s if answer else None,
            )
            duration = round((time.monotonic() - clock) * 1000)
            result = AttemptResult(
                started, duration, status, error, outcome.status, outcome.next_attempt_at
            )
        await self._settle(delivery, result)

    async def _send(self, delivery: ClaimedDelivery) -> tuple[PostAnswer | None, str | None]:
        body = delivery.payload.encode()
        secret = user_secret(self.settings.webhook_signing_key, delivery.user_id)
        headers = signed_headers(secret, delivery.webhook_id, utcnow(), body)
        try:
            answer = await post(delivery.url, body, headers, self.settings.webhook_policy)
        except (FetchRefused, FetchFailed) as exc:
            return None, str(exc)[:ERROR_CHARS]
        if classify(answer.status) is Answer.OK:
            return answer, None
        said = f"answered {answer.status}: {answer.excerpt}".strip().rstrip(":")
        return answer, said[:ERROR_CHARS]

    async def _settle(self, delivery: ClaimedDelivery, result: AttemptResult) -> None:
        """Record the attempt; a delivery that gave up is dead-lettered first (a dead letter may
        then be written twice, never lost), a 410 disables its receiver."""
        if result.status is DeliveryStatus.FAILED:
            await self.dead_letter(_dead_letter(delivery, result))
        if result.status is DeliveryStatus.DISABLED and result.status_code == 410:
            await self.store.disable(delivery.user_id, delivery.url, result.started_at)
        if not await self.store.finish(delivery, result):
            logger.info("delivery %s was taken over by another sender", delivery.webhook_id)
        else:
            logger.info(
                "webhook %s attempt %d: %s (%s)",
                delivery.webhook_id,
                delivery.attempt,
                result.status.value,
                result.status_code or result.error,
            )


def _dead_letter(delivery: ClaimedDelivery, result: AttemptResult) -> WebhookDeadLetter:
    return WebhookDeadLetter(
        webhook_id=delivery.webhook_id,
        job_id=delivery.job_id,
        user_id=delivery.user_id,
        url=delivery.url,
        event_type=delivery.event_type,
        payload=delivery.payload,
        attempts=delivery.attempt,
        last_error=result.error,
        failed_at=result.started_at,
    )
