"""The projection: events from the events topic to the job table, judged by the job core."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from pydantic import ValidationError

from darkroom.contracts.envelope import utcnow
from darkroom.contracts.events import JobEvent, parse_event
from darkroom.contracts.topics import Topics
from darkroom.jobs.plans.family import plan_family
from darkroom.jobs.records import Change, JobRecord, Plan
from darkroom.jobs.transitions import update_for
from darkroom.runtime.db import JobStore
from darkroom.runtime.db.store import React

logger = logging.getLogger(__name__)


def reactor(topics: Topics) -> React:
    """What children's accepted events make of their batch or chain."""

    def react(parent: JobRecord, children: list[JobRecord]) -> Plan:
        return plan_family(parent, children, topics, utcnow())

    return react


def decode_batch(payloads: Sequence[bytes]) -> list[JobEvent]:
    """Valid events of a batch, in order; a malformed message is logged and skipped, never fatal."""
    events: list[JobEvent] = []
    for payload in payloads:
        try:
            events.append(parse_event(payload))
        except ValidationError as exc:
            logger.error("skipping malformed event (%d bytes): %s", len(payload), exc.errors()[:3])
    return events


async def project(payloads: Sequence[bytes], store: JobStore, react: React | None = None) -> int:
    """Apply a batch of raw events in one transaction, in the order they came; returns how many
    were accepted. With `react`, the parents of children with accepted events follow them in
    the same transaction."""
    events = decode_batch(payloads)
    if not events:
        return 0
    accepted = await store.apply_events([Change(e, update_for(e)) for e in events], react)
    logger.debug("projected %d events (%d accepted)", len(events), accepted)
    return accepted
