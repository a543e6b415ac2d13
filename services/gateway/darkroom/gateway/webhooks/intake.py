"""The events topic, read by the webhooks' consumer group: each event of a job with a webhook
that asked for its type becomes a delivery, once the projector has accepted it.

Only what the job's history keeps is sent: a report the projector refused (a superseded run's,
or one after the job ended) never becomes a delivery, so work done twice never shows twice. The
body is the event as the history records it, the one the SSE stream sends. A delivery's id
derives from its event, so a batch read twice (after a crash, a rebalance, a replay) adds
nothing. `job.progress` is throttled to one delivery per job per PROGRESS_INTERVAL_S.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from darkroom.contracts.envelope import utcnow
from darkroom.contracts.events import JobEvent
from darkroom.contracts.webhooks import PROGRESS_INTERVAL_S
from darkroom.gateway.projector import decode_batch
from darkroom.runtime.db.webhook_records import NewDelivery
from darkroom.runtime.db.webhooks import WebhookStore

logger = logging.getLogger(__name__)
VERDICT_POLL_MAX_S = 0.1  # the longest pause between two looks at what the projector recorded
REMEMBERED_JOBS = 10_000  # jobs whose last progress delivery the throttle keeps in memory


class ProjectorBehind(RuntimeError):
    """Events the projector has not recorded yet, after waiting: the batch is read again."""


def webhook_id(event: JobEvent) -> str:
    """The `webhook-id` of an event's delivery: the same on every attempt and every take-in."""
    return f"msg_{event.event_id.hex}"


@dataclass
class Intake:
    store: WebhookStore
    on_added: Callable[[], None]  # wakes the dispatcher
    verdict_wait_s: float = 30.0
    progress_interval: timedelta = timedelta(seconds=PROGRESS_INTERVAL_S)
    _last_progress: OrderedDict[str, datetime | None] = field(default_factory=OrderedDict)

    async def take(self, payloads: Sequence[bytes]) -> int:
        """Store the deliveries a batch of raw events makes; returns how many."""
        events = decode_batch(payloads)
        subscriptions = await self.store.subscriptions({str(e.job_id) for e in events})
        wanted = [
            (event, sub)
            for event in events
            if (sub := subscriptions.get(str(event.job_id))) and event.type in sub.events
        ]
        if not wanted:
            return 0
        recorded = await self._recorded([event for event, _ in wanted])
        progress = dict(self._last_progress)
        deliveries = [
            NewDelivery(webhook_id(e), sub, e.event_id, e.type, e.occurred_at, payload)
            for e, sub in wanted
            if (payload := recorded[str(e.event_id)]) is not None and await self._sends(e, progress)
        ]
        await self.store.add(deliveries, utcnow())
        self._remember(progress)
        if deliveries:
            self.on_added()
        return len(deliveries)

    async def _recorded(self, events: list[JobEvent]) -> dict[str, str | None]:
        """What the projector made of each event, asking again every few tens of milliseconds (one
        indexed query) until it has seen all: the projector is usually a batch behind."""
        ids = {str(e.event_id) for e in events}
        deadline = asyncio.get_running_loop().time() + self.verdict_wait_s
        pause = 0.01
        while len(recorded := await self.store.recorded(ids)) < len(ids):
            if asyncio.get_running_loop().time() > deadline:
                raise ProjectorBehind(f"{len(ids) - len(recorded)} events not projected yet")
            await asyncio.sleep(pause)
            pause = min(pause * 1.5, VERDICT_POLL_MAX_S)
        return recorded

    async def _sends(self, event: JobEvent, progress: dict[str, datetime | None]) -> bool:
        """Whether the event is sent: every type but `job.progress`, which is sent if the job's
        last sent one is at least the interval older."""
        if event.type != "job.progress":
            return True
        job = str(event.job_id)
        if job not in progress:
            progress[job] = await self.store.last_progress_at(job)
        last = progress[job]
        if last is not None and event.occurred_at - last < self.progress_interval:
            return False
        progress[job] = event.occurred_at
        return True

    def _remember(self, progress: dict[str, datetime | None]) -> None:
        for job, at in progress.items():
            self._last_progress[job] = at
            self._last_progress.move_to_end(job)
        while len(self._last_progress) > REMEMBERED_JOBS:
            self._last_progress.popitem(last=False)
