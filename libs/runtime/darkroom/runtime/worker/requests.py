"""From a request record to an attempt: decode, or dead-letter what is not a request (poison)."""

from __future__ import annotations

import json
import logging
import uuid
from typing import Any

from aiokafka import ConsumerRecord
from opentelemetry import trace
from pydantic import ValidationError

from darkroom.contracts.errors import ErrorCode
from darkroom.contracts.events import JobFailed
from darkroom.jobs.numbering import EventNumbering, JobIdentity
from darkroom.runtime.telemetry import context_from
from darkroom.runtime.worker.attempt import (
    AttemptPorts,
    Origin,
    R,
    Work,
    run_attempt,
    send_dead_letter,
)
from darkroom.runtime.worker.consumer import Handle
from darkroom.runtime.worker.errors import PermanentError

logger = logging.getLogger(__name__)
tracer = trace.get_tracer(__name__)


def request_handler(model: type[R], ports: AttemptPorts, work: Work[R]) -> Handle:
    """The consumer's handler for a job type's request topic."""

    async def on_request(record: ConsumerRecord) -> None:
        origin = Origin(record.topic, record.partition, record.offset)
        payload = record.value or b""
        try:
            request = model.model_validate_json(payload)
        except ValidationError as exc:
            await reject_poison(payload, record.key, origin, ports, exc)
            return
        with tracer.start_as_current_span(
            f"{ports.job_type.value} job", context=context_from(request.trace)
        ):
            await run_attempt(request, origin, ports, work)

    return on_request


async def reject_poison(
    payload: bytes, key: bytes | None, origin: Origin, ports: AttemptPorts, exc: ValidationError
) -> None:
    """Dead-letter a message that is not a valid request; fail its job if it names one.

    It is never retried (it would fail the same way) and never blocks its partition.
    """
    details = "; ".join(
        f"{'.'.join(str(p) for p in e['loc']) or 'body'}: {e['msg']}" for e in exc.errors()[:5]
    )
    error = PermanentError(ErrorCode.INVALID_INPUT, f"not a valid request: {details}")
    logger.error(
        "poison message at %s[%d]@%d: %s", origin.topic, origin.partition, origin.offset, error
    )
    failed = _failed_event_for(payload, ports, error)
    if failed is not None:
        await ports.emit(failed)
    await send_dead_letter(ports, payload, key, origin, error, attempts=0)


def _failed_event_for(
    payload: bytes, ports: AttemptPorts, error: PermanentError
) -> JobFailed | None:
    """A job.failed for the job the message names, if it names one and its owner."""
    try:
        data: Any = json.loads(payload)
        job_id = uuid.UUID(str(data["job_id"]))
        user_id = data["user_id"]
        attempt = data.get("attempt", 1)
        seq = data.get("first_seq", 2)
        if not (
            isinstance(user_id, str)
            and user_id
            and isinstance(attempt, int)
            and isinstance(seq, int)
        ):
            return None
        identity = JobIdentity(job_id, user_id[:200], ports.job_type)
        numbering = EventNumbering(identity, max(1, attempt), max(2, seq))
        return numbering.make(
            JobFailed, code=error.code, message=str(error)[:2000], retryable=False
        )
    except (ValueError, KeyError, TypeError, AttributeError):
        return None
