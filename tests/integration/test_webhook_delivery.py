"""Webhook deliveries against a local receiver and a real database (SQLite and PostgreSQL): the
events the projector accepted become one delivery each (refused reports and events of other
types none), signed per Standard Webhooks with the owner's secret; a receiver that fails twice
gets the same webhook id three times, a 410 disables the receiver, a receiver whose name now
resolves to a private address is not connected to, and progress is throttled."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta

import pytest
from standardwebhooks import Webhook

from darkroom.contracts.events import JobEvent, encode_event
from darkroom.contracts.webhooks import DeliveryStatus, WebhookDeadLetter, WebhookSubscription
from darkroom.gateway.projector import project
from darkroom.gateway.webhooks.dispatch import Dispatcher
from darkroom.gateway.webhooks.intake import Intake
from darkroom.gateway.webhooks.settings import WebhookSettings
from darkroom.gateway.webhooks.signing import user_secret
from darkroom.runtime.db import Database, JobStore
from darkroom.runtime.db.webhook_history import deliveries_of
from darkroom.runtime.db.webhooks import WebhookStore
from tests.fixtures.webhook_receiver import Receiver
from tests.integration.helpers import completed, new_job, progress, random_user, started, wait_until

pytestmark = pytest.mark.integration


@dataclass
class Sender:
    jobs: JobStore
    store: WebhookStore
    intake: Intake
    dispatcher: Dispatcher
    settings: WebhookSettings
    dead: list[WebhookDeadLetter]

    async def job(self, url: str, *events: str) -> tuple[uuid.UUID, str, uuid.UUID]:
        """A job with a webhook (of `events`, or the terminal ones); its id, owner and run."""
        user = random_user()
        webhook = WebhookSubscription(url=url, **({"events": events} if events else {}))
        plan = new_job(user, webhook=webhook, messages=False)
        await self.jobs.create_jobs([plan])
        assert plan.job.run_id is not None
        return plan.job.job_id, user, plan.job.run_id

    async def events(self, *events: JobEvent) -> int:
        """Project the events as the projector does, then take them in; returns deliveries."""
        payloads = [encode_event(e) for e in events]
        await project(payloads, self.jobs)
        return await self.intake.take(payloads)


@pytest.fixture
async def sender(database: Database) -> AsyncIterator[Sender]:
    settings = WebhookSettings(
        _env_file=None,  # type: ignore[call-arg]
        webhook_allow_loopback=True,
        webhook_retry_base_s=0.05,
        webhook_retry_max_s=0.2,
        webhook_timeout_s=5,
    )
    dead: list[WebhookDeadLetter] = []

    async def dead_letter(letter: WebhookDeadLetter) -> None:
        dead.append(letter)

    store = WebhookStore(database)
    dispatcher = Dispatcher(store, settings, dead_letter)
    intake = Intake(store, dispatcher.wake.set, verdict_wait_s=2)
    dispatcher.start()
    yield Sender(JobStore(database), store, intake, dispatcher, settings, dead)
    await dispatcher.close()


async def settled(sender: Sender, job_id: uuid.UUID) -> list[DeliveryStatus]:
    async def done() -> bool:
        views = await deliveries_of(sender.store.db, job_id)
        return bool(views) and all(v.status is not DeliveryStatus.PENDING for v in views)

    await wait_until(done, "the deliveries to settle")
    return [v.status for v in await deliveries_of(sender.store.db, job_id)]


async def test_a_receiver_failing_twice_gets_one_signed_delivery_three_times(
    sender: Sender, webhook_receiver: Receiver
) -> None:
    job_id, user, run = await sender.job(f"{webhook_receiver.url}/flaky")
    done = completed(job_id, user, 3, run=run)
    taken = await sender.events(started(job_id, user, 2, run=run), done)

    assert taken == 1  # job.started is not asked for: terminal events only by default
    assert await settled(sender, job_id) == [DeliveryStatus.DELIVERED]
    attempts = webhook_receiver.at("/flaky")
    assert len(attempts) == 3 and len({a.headers["webhook-id"] for a in attempts}) == 1
    secret = user_secret(sender.settings.webhook_signing_key, user)
    for attempt in attempts:  # each attempt signed anew, each valid
        assert Webhook(secret).verify(attempt.body, attempt.headers) == json.loads(
            encode_event(done)
        )
    (view,) = await deliveries_of(sender.store.db, job_id)
    assert (
        view.webhook_id == attempts[0].headers["webhook-id"] and view.event_type == "job.completed"
    )
    assert [(a.attempt, a.status_code) for a in view.attempts] == [(1, 500), (2, 500), (3, 200)]
    assert view.attempts[0].error == "answered 500: ok" and view.attempts[2].error is None
    assert all(a.duration_ms is not None for a in view.attempts)


async def test_taking_the_same_events_in_again_adds_no_delivery_and_refused_reports_none(
    sender: Sender, webhook_receiver: Receiver
) -> None:
    job_id, user, run = await sender.job(f"{webhook_receiver.url}/ok")
    done = completed(job_id, user, 3, run=run)
    assert await sender.events(started(job_id, user, 2, run=run), done) == 1
    assert await sender.intake.take([encode_event(done)]) == 1  # stored once (same id)
    stale = completed(job_id, user, 4, run=uuid.uuid4())  # a superseded run's report
    assert await sender.events(stale) == 0

    assert await settled(sender, job_id) == [DeliveryStatus.DELIVERED]
    assert len(webhook_receiver.at("/ok")) == 1


async def test_a_410_disables_the_receiver_for_the_jobs_that_asked_before(
    sender: Sender, webhook_receiver: Receiver
) -> None:
    url = f"{webhook_receiver.url}/gone"
    first, user, run = await sender.job(url, "job.started", "job.completed")
    await sender.events(started(first, user, 2, run=run))
    assert await settled(sender, first) == [DeliveryStatus.DISABLED]

    await sender.events(completed(first, user, 3, run=run))
    assert await settled(sender, first) == [DeliveryStatus.DISABLED] * 2
    assert len(webhook_receiver.at("/gone")) == 1  # the second was not sent
    (_, later) = await deliveries_of(sender.store.db, first)
    assert later.attempts[0].status_code is None and "410 Gone" in str(later.attempts[0].error)


async def test_progress_is_sent_at_most_once_a_second_per_job(
    sender: Sender, webhook_receiver: Receiver
) -> None:
    job_id, user, run = await sender.job(f"{webhook_receiver.url}/ok", "job.progress")
    steps = [progress(job_id, user, 3 + i, 10 * i, run=run) for i in range(1, 6)]
    paced = [
        step.model_copy(update={"occurred_at": steps[0].occurred_at + timedelta(seconds=0.4 * i)})
        for i, step in enumerate(steps)
    ]  # at 0, 0.4, 0.8, 1.2 and 1.6 s
    assert await sender.events(started(job_id, user, 2, run=run), *paced) == 2  # 0 s and 1.2 s
    assert await settled(sender, job_id) == [DeliveryStatus.DELIVERED] * 2


async def test_a_receiver_on_a_private_address_is_never_connected_to(
    sender: Sender, webhook_receiver: Receiver
) -> None:
    sender.settings.webhook_allow_loopback = False  # the receiver's 127.0.0.1 is now refused
    sender.settings.webhook_retry_window_s = 0.3
    job_id, user, run = await sender.job(f"{webhook_receiver.url}/ok")
    await sender.events(completed(job_id, user, 2, run=run))

    assert await settled(sender, job_id) == [DeliveryStatus.FAILED]
    assert webhook_receiver.at("/ok") == []
    (view,) = await deliveries_of(sender.store.db, job_id)
    assert all("loopback" in str(a.error) for a in view.attempts)
    (letter,) = sender.dead
    assert (letter.job_id, letter.event_type) == (job_id, "job.completed")
