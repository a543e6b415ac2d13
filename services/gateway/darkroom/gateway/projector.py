"""The projection: how each event changes its job's row. Plain functions, no broker."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any, assert_never

from pydantic import ValidationError

from darkroom.contracts.events import (
    JobCancelled,
    JobCompleted,
    JobCompletedWithErrors,
    JobEvent,
    JobFailed,
    JobProgress,
    JobQueued,
    JobRequeued,
    JobRetrying,
    JobStarted,
    parse_event,
)
from darkroom.runtime.db import JobStore
from darkroom.runtime.db.store import React

logger = logging.getLogger(__name__)


def job_changes(event: JobEvent) -> dict[str, Any]:
    """The job columns an event sets (the store applies them only if the event is newer)."""
    match event:
        case JobQueued():
            return {"status": "queued"}
        case JobRequeued():
            return {
                "status": "queued",
                "series_start": event.attempt,
                "progress": 0,
                "message": f"queued again by {event.requested_by}",
                "result": None,
                "error": None,
                "finished_at": None,
            }
        case JobStarted():
            return {"status": "running", "attempts": event.attempt, "started_at": event.occurred_at}
        case JobProgress():
            return {
                "status": "running",
                "progress": event.percent,
                "message": event.message or None,
            }
        case JobRetrying():
            error = {"code": event.code.value, "message": event.message, "retryable": True}
            return {
                "status": "retrying",
                "error": error,
                "message": f"attempt {event.next_attempt} at {event.next_attempt_at.isoformat()}",
            }
        case JobCancelled():
            return {"status": "cancelled", "finished_at": event.occurred_at}
        case JobCompleted():
            return {
                "status": "completed",
                "progress": 100,
                "result": event.result.model_dump(mode="json"),
                "error": None,
                "finished_at": event.occurred_at,
            }
        case JobCompletedWithErrors():
            failed = len(event.failed_children)
            first = event.failed_children[0]
            error = {
                "code": "children_failed",
                "message": f"{failed} children did not complete; the first, {first.job_id}, "
                f"{first.status}: {first.message}"[:2000],
                "retryable": False,
            }
            return {
                "status": "completed_with_errors",
                "progress": 100,
                "result": event.result.model_dump(mode="json"),
                "error": error,
                "finished_at": event.occurred_at,
            }
        case JobFailed():
            error = {
                "code": event.code.value,
                "message": event.message,
                "retryable": event.retryable,
            }
            return {"status": "failed", "error": error, "finished_at": event.occurred_at}
        case _:
            assert_never(event)


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
    """Apply a batch of raw events in one transaction; returns how many were new. With `react`,
    the parents of children with new events follow them in the same transaction."""
    events = decode_batch(payloads)
    if not events:
        return 0
    fresh = await store.apply_events([(e, job_changes(e)) for e in events], react)
    logger.debug("projected %d events (%d new)", len(events), fresh)
    return fresh
