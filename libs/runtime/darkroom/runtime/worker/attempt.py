"""One attempt of a job, for any job type: started, the work, then exactly one outcome.

The outcome of a failure is decided here, once for every worker:
- retryable and attempts left: `job.retrying` with the time of the next attempt, and the next
  request (attempt + 1, numbered on from this attempt's events) on the job type's retry topic;
- retryable and out of attempts: `job.failed`, and the request on the dead-letter topic;
- permanent: `job.failed`.
Each outcome is acknowledged by the broker before this returns, so the request's offset is
committed only after it (at-least-once). Event ids and the next request's id are deterministic,
so an attempt run twice after a crash publishes nothing new.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Literal, TypeVar

from darkroom.contracts.assets import JobResult
from darkroom.contracts.control import CancelRequested
from darkroom.contracts.envelope import utcnow
from darkroom.contracts.jobtypes import JobType
from darkroom.contracts.requests import JobRequested
from darkroom.contracts.topics import Topics
from darkroom.runtime.job_events import AttemptEvents, next_request_id
from darkroom.runtime.kafka import Emit, EmitFailed, Send, job_key
from darkroom.runtime.worker import headers as h
from darkroom.runtime.worker.control import CancelRegistry
from darkroom.runtime.worker.errors import JobTimedOut, WorkerError, classify
from darkroom.runtime.worker.limits import ProviderLimit, ProviderLimits
from darkroom.runtime.worker.retry import RetryPolicy

logger = logging.getLogger(__name__)

R = TypeVar("R", bound=JobRequested)


@dataclass(frozen=True)
class Origin:
    """Where a request was read: written into its dead letter."""

    topic: str
    partition: int
    offset: int


@dataclass
class AttemptPorts:
    """What running attempts of one job type needs: no broker client, so tests pass fakes."""

    job_type: JobType
    emit: Emit
    send: Send
    topics: Topics
    policy: RetryPolicy
    worker_id: str
    limits: ProviderLimits = field(default_factory=lambda: ProviderLimits({}, ProviderLimit()))
    cancels: CancelRegistry = field(default_factory=CancelRegistry)


Work = Callable[[R, AttemptEvents], Awaitable[JobResult]]


async def run_attempt(request: R, origin: Origin, ports: AttemptPorts, work: Work[R]) -> None:
    """Run `work` for one attempt of `request`, within the policy's timeout, and emit its outcome."""
    if ports.cancels.superseded(request.request_id) is not None:
        logger.info(
            "job %s: the run of request %s was superseded: skipped",
            request.job_id,
            request.request_id,
        )
        return
    if (cancel := ports.cancels.get(request.job_id)) is not None:
        await skip_cancelled(request, ports, cancel)
        return
    async with ports.limits.slot(request.provider):
        await _run(request, origin, ports, work)


async def _run(request: R, origin: Origin, ports: AttemptPorts, work: Work[R]) -> None:
    events = AttemptEvents(request, ports.job_type)
    log = {"job_id": str(request.job_id), "attempt": request.attempt}
    logger.info("job %s attempt %d started", request.job_id, request.attempt, extra=log)
    await ports.emit(events.started(ports.worker_id))
    job = asyncio.ensure_future(work(request, events))
    beat = asyncio.ensure_future(_heartbeat(events, ports))
    stop = ports.cancels.watch(request.job_id, request.request_id)
    try:
        ending = await _supervise(job, stop, _timeout_s(request, ports))
    finally:
        beat.cancel()
        await asyncio.gather(beat, return_exceptions=True)
        ports.cancels.unwatch(request.job_id, request.request_id)
    if ports.cancels.superseded(request.request_id) is not None:
        logger.warning(
            "job %s: this run was superseded by another: stopped", request.job_id, extra=log
        )
        return  # its reports would be refused: the run that replaced it reports
    if ending == "cancelled":
        cancel = ports.cancels.get(request.job_id)
        logger.info("job %s cancelled while running", request.job_id, extra=log)
        by = cancel.requested_by if cancel else "unknown"
        await ports.emit(events.cancelled(by, while_running=True))
        return
    await _outcome(request, origin, ports, events, job, ending)


def _timeout_s(request: R, ports: AttemptPorts) -> float:
    return ports.limits.timeout_of(request.provider, ports.policy.timeout_s)


async def _outcome(
    request: R,
    origin: Origin,
    ports: AttemptPorts,
    events: AttemptEvents,
    job: asyncio.Future[JobResult],
    ending: str,
) -> None:
    log = {"job_id": str(request.job_id), "attempt": request.attempt}
    if ending == "timed_out":
        error: WorkerError = JobTimedOut(_timeout_s(request, ports))
    elif (exc := job.exception()) is not None:
        if isinstance(exc, EmitFailed):
            raise exc
        error = classify(exc)
    else:
        await ports.emit(events.completed(job.result()))
        logger.info("job %s completed", request.job_id, extra=log)
        return
    logger.warning("job %s attempt failed: %s", request.job_id, error, extra=log)
    await settle_failure(request, events, error, origin, ports)


async def _heartbeat(events: AttemptEvents, ports: AttemptPorts) -> None:
    """While the work runs, repeat the last progress once no event went out for a heartbeat
    interval (so never more than that between two events), so the sweeper can tell a long job
    from a lost one."""
    interval = ports.policy.heartbeat_s
    while True:
        wait = events.last_made + interval - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)
            continue
        await ports.emit(events.heartbeat())


async def _supervise(
    job: asyncio.Future[JobResult], cancelled: asyncio.Event, timeout_s: float
) -> Literal["done", "cancelled", "timed_out"]:
    """Wait for the work, a cancel or the timeout; the work is stopped (at its next await)
    unless it finished first."""
    stop = asyncio.ensure_future(cancelled.wait())
    try:
        async with asyncio.timeout(timeout_s):
            await asyncio.wait({job, stop}, return_when=asyncio.FIRST_COMPLETED)
    except TimeoutError:
        pass
    finally:
        stop.cancel()
        if not job.done():
            job.cancel()
            await asyncio.gather(job, return_exceptions=True)
    if not job.cancelled():
        return "done"
    return "cancelled" if cancelled.is_set() else "timed_out"


async def skip_cancelled(request: R, ports: AttemptPorts, cancel: CancelRequested) -> None:
    """A request of a cancelled job: never run; recorded as cancelled unless the gateway did."""
    logger.info("job %s was cancelled: its request is skipped", request.job_id)
    if not cancel.recorded:
        events = AttemptEvents(request, ports.job_type)
        await ports.emit(events.cancelled(cancel.requested_by, while_running=False))


async def settle_failure(
    request: R, events: AttemptEvents, error: WorkerError, origin: Origin, ports: AttemptPorts
) -> None:
    """Retry, dead-letter or fail: exactly one, acknowledged before returning."""
    code, message = error.code, str(error)
    policy, series = ports.policy, request.series_start
    if error.retryable and policy.retries_after(request.attempt, series):
        due = utcnow() + timedelta(seconds=_delay(error, policy, request.attempt + 1, series))
        retrying = events.retrying(code, message, due)
        await ports.emit(retrying)  # acknowledged, with every event before it
        following = request.model_copy(
            update={
                "request_id": next_request_id(request),
                "attempt": request.attempt + 1,
                "first_seq": events.next_seq,
                "not_before": due,
            }
        )
        headers = [
            (h.NOT_BEFORE, h.epoch_ms(due)),
            (h.TARGET_TOPIC, ports.topics.requested(ports.job_type, request.priority).encode()),
        ]
        body = following.model_dump_json().encode()
        await ports.send(ports.topics.retry(ports.job_type), body, job_key(request.job_id), headers)
        return
    await ports.emit(events.failed(code, message, error.retryable))
    if error.retryable:  # out of attempts: kept for an operator to look at and replay
        body = request.model_dump_json().encode()
        await send_dead_letter(ports, body, job_key(request.job_id), origin, error, request.attempt)


async def send_dead_letter(
    ports: AttemptPorts,
    body: bytes,
    key: bytes | None,
    origin: Origin,
    error: WorkerError,
    attempts: int,
) -> None:
    """The message, unchanged, on the job type's dead-letter topic, with why and whence in headers."""
    headers = [
        (h.DLQ_ERROR_CODE, error.code.value.encode()),
        (h.DLQ_ERROR_MESSAGE, str(error)[:1000].encode()),
        (h.DLQ_ATTEMPTS, str(attempts).encode()),
        (h.DLQ_ORIGINAL_TOPIC, origin.topic.encode()),
        (h.DLQ_ORIGINAL_PARTITION, str(origin.partition).encode()),
        (h.DLQ_ORIGINAL_OFFSET, str(origin.offset).encode()),
        (h.DLQ_FAILED_AT, utcnow().isoformat().encode()),
    ]
    topic = ports.topics.dead_letters(ports.job_type)
    await ports.send(topic, body, key, headers)
    logger.warning(
        "dead-lettered %s[%d]@%d: %s", origin.topic, origin.partition, origin.offset, error
    )


def _delay(error: WorkerError, policy: RetryPolicy, attempt: int, series: int) -> float:
    """The backoff before `attempt`, or longer if the provider said when to come back."""
    backoff = policy.delay_before(attempt, series)
    asked = getattr(error, "retry_after_s", None) or 0.0
    return max(backoff, min(asked, policy.max_delay_s))
