"""The shared attempt machinery: retry, dead letter or fail, exactly one, for any job type."""

from __future__ import annotations

import asyncio
import json
import time

import pytest
from aiokafka import ConsumerRecord

from darkroom.contracts.assets import JobResult
from darkroom.contracts.control import CancelRequested
from darkroom.contracts.envelope import utcnow
from darkroom.contracts.errors import ErrorCode
from darkroom.contracts.events import JobCancelled, JobFailed, JobProgress, JobRetrying
from darkroom.contracts.requests import ImageJobRequested
from darkroom.contracts.topics import Topics
from darkroom.runtime.job_events import AttemptEvents
from darkroom.runtime.worker import (
    CancelRegistry,
    RetryPolicy,
    request_handler,
    retry_mover,
    run_attempt,
)
from darkroom.runtime.worker.errors import PermanentError, RetryableError
from darkroom.runtime.worker.limits import ProviderLimit, ProviderLimits
from tests.factories import image_params, image_request
from tests.unit.runtime.worker_fakes import ORIGIN, FakeBroker

TOPICS = Topics()


def failing(error: Exception):  # type: ignore[no-untyped-def]
    async def work(request: ImageJobRequested, events: AttemptEvents) -> JobResult:
        raise error

    return work


async def succeeding(request: ImageJobRequested, events: AttemptEvents) -> JobResult:
    return JobResult(assets=[])


async def test_a_retryable_failure_with_attempts_left_schedules_the_next_attempt() -> None:
    broker, request = FakeBroker(), image_request(attempt=1, first_seq=2)
    policy = RetryPolicy(max_attempts=3, base_delay_s=2.0)
    before = utcnow()

    await run_attempt(request, ORIGIN, broker.ports(policy), failing(ConnectionError("down")))

    assert broker.types == ["job.started", "job.retrying"]
    retrying = broker.events[-1]
    assert isinstance(retrying, JobRetrying)
    assert (retrying.code, retrying.next_attempt) == (ErrorCode.PROVIDER_UNAVAILABLE, 2)
    wait = (retrying.next_attempt_at - before).total_seconds()
    assert 1.6 <= wait <= 2.5  # the base delay, ±20 % jitter
    [retry] = broker.sent
    assert retry.topic == TOPICS.image.retry
    assert retry.headers["target-topic"] == TOPICS.image.requested
    following = ImageJobRequested.model_validate_json(retry.value)
    assert (following.job_id, following.attempt) == (request.job_id, 2)
    assert following.first_seq == retrying.seq + 1  # the next attempt numbers on
    assert following.not_before == retrying.next_attempt_at
    assert int(retry.headers["not-before"]) == int(retrying.next_attempt_at.timestamp() * 1000)


@pytest.mark.parametrize(
    ("asked_s", "low", "high"), [(30.0, 30.0, 30.5), (0.5, 1.6, 2.5), (900, 60, 60.5)]
)
async def test_a_provider_asking_to_wait_is_retried_no_sooner_than_it_asked_within_the_longest_delay(
    asked_s: float, low: float, high: float
) -> None:
    broker, request = FakeBroker(), image_request(attempt=1, first_seq=2)
    policy = RetryPolicy(max_attempts=3, base_delay_s=2.0, max_delay_s=60.0)
    error = RetryableError(ErrorCode.RATE_LIMITED, "429: slow down", retry_after_s=asked_s)
    before = utcnow()

    await run_attempt(request, ORIGIN, broker.ports(policy), failing(error))

    retrying = broker.events[-1]
    assert isinstance(retrying, JobRetrying) and retrying.code == ErrorCode.RATE_LIMITED
    assert low <= (retrying.next_attempt_at - before).total_seconds() <= high


async def test_the_next_request_is_identical_when_an_attempt_runs_twice() -> None:
    first, second, request = FakeBroker(), FakeBroker(), image_request()
    for broker in (first, second):
        await run_attempt(request, ORIGIN, broker.ports(), failing(TimeoutError()))
    ids = [
        ImageJobRequested.model_validate_json(b.sent[0].value).request_id for b in (first, second)
    ]
    assert ids[0] == ids[1]
    assert [e.event_id for e in first.events] == [e.event_id for e in second.events]


async def test_the_last_attempt_fails_the_job_and_dead_letters_the_request() -> None:
    broker, request = FakeBroker(), image_request(attempt=3, first_seq=20)

    await run_attempt(
        request, ORIGIN, broker.ports(RetryPolicy(max_attempts=3)), failing(TimeoutError())
    )

    assert broker.types == ["job.started", "job.failed"]
    failed = broker.events[-1]
    assert isinstance(failed, JobFailed) and failed.retryable
    [dead] = broker.sent
    assert dead.topic == TOPICS.image.dlq
    assert ImageJobRequested.model_validate_json(dead.value) == request
    assert dead.headers["dlq-error-code"] == "provider_timeout"
    assert dead.headers["dlq-attempts"] == "3"
    assert (dead.headers["dlq-original-topic"], dead.headers["dlq-original-partition"]) == (
        ORIGIN.topic,
        "3",
    )
    assert dead.headers["dlq-original-offset"] == "41"


async def test_a_permanent_failure_fails_the_job_at_once_without_retry_or_dead_letter() -> None:
    broker = FakeBroker()

    await run_attempt(
        image_request(),
        ORIGIN,
        broker.ports(),
        failing(PermanentError(ErrorCode.CONTENT_REFUSED, "no")),
    )

    assert broker.types == ["job.started", "job.failed"]
    assert broker.sent == []


async def test_an_attempt_past_its_timeout_is_stopped_and_counts_as_retryable() -> None:
    broker = FakeBroker()

    async def slow(request: ImageJobRequested, events: AttemptEvents) -> JobResult:
        await asyncio.sleep(60)
        raise AssertionError("not stopped")

    policy = RetryPolicy(max_attempts=2, timeout_s=0.05)
    await run_attempt(image_request(), ORIGIN, broker.ports(policy), slow)

    retrying = broker.events[-1]
    assert isinstance(retrying, JobRetrying)
    assert retrying.code == ErrorCode.TIMEOUT
    assert "0.05 s timeout" in retrying.message


async def test_a_providers_own_timeout_bounds_its_attempts_instead_of_the_workers() -> None:
    broker = FakeBroker()

    async def slow(request: ImageJobRequested, events: AttemptEvents) -> JobResult:
        await asyncio.sleep(60)
        raise AssertionError("not stopped")

    ports = broker.ports(RetryPolicy(max_attempts=2, timeout_s=30))
    ports.limits = ProviderLimits({"acme": ProviderLimit(timeout_s=0.05)}, ProviderLimit())
    async with asyncio.timeout(5):
        await run_attempt(image_request(params=image_params(provider="acme")), ORIGIN, ports, slow)

    retrying = broker.events[-1]
    assert isinstance(retrying, JobRetrying) and "0.05 s timeout" in retrying.message


async def test_success_emits_completed_and_sends_nothing_else() -> None:
    broker = FakeBroker()
    await run_attempt(image_request(), ORIGIN, broker.ports(), succeeding)
    assert broker.types == ["job.started", "job.completed"]
    assert broker.sent == []


def record(value: bytes, **headers: str) -> ConsumerRecord:
    return ConsumerRecord(
        topic=ORIGIN.topic,
        partition=ORIGIN.partition,
        offset=ORIGIN.offset,
        timestamp=0,
        timestamp_type=0,
        key=b"k",
        value=value,
        checksum=None,
        serialized_key_size=1,
        serialized_value_size=len(value),
        headers=tuple((k, v.encode()) for k, v in headers.items()),
    )


async def test_poison_naming_its_job_fails_that_job_and_is_dead_lettered() -> None:
    broker, request = FakeBroker(), image_request(first_seq=2)
    body = json.loads(request.model_dump_json())
    body["params"]["width"] = "wide"

    await request_handler(ImageJobRequested, broker.ports(), succeeding)(
        record(json.dumps(body).encode())
    )

    [failed] = broker.events
    assert isinstance(failed, JobFailed)
    assert (failed.job_id, failed.code, failed.retryable) == (
        request.job_id,
        ErrorCode.INVALID_INPUT,
        False,
    )
    assert "params.width" in failed.message
    [dead] = broker.sent
    assert dead.topic == TOPICS.image.dlq and dead.headers["dlq-attempts"] == "0"


async def test_poison_that_names_no_job_is_only_dead_lettered() -> None:
    broker = FakeBroker()
    await request_handler(ImageJobRequested, broker.ports(), succeeding)(record(b"{not json"))
    assert broker.events == []
    assert [s.value for s in broker.sent] == [b"{not json"]


async def test_a_due_retry_is_moved_to_its_target_at_once_and_a_later_one_waits() -> None:
    broker = FakeBroker()
    move = retry_mover(broker.send)
    now_ms = int(time.time() * 1000)

    await move(record(b"due", **{"target-topic": "t", "not-before": str(now_ms - 1000)}))
    assert [(s.topic, s.value) for s in broker.sent] == [("t", b"due")]

    started = time.monotonic()
    await move(record(b"later", **{"target-topic": "t", "not-before": str(now_ms + 300)}))
    assert time.monotonic() - started >= 0.2
    assert broker.sent[-1].value == b"later"


@pytest.mark.parametrize(("attempt", "low", "high"), [(2, 1.6, 2.4), (3, 3.2, 4.8), (4, 6.4, 9.6)])
def test_backoff_doubles_from_the_base_delay_with_jitter(
    attempt: int, low: float, high: float
) -> None:
    policy = RetryPolicy(base_delay_s=2.0, max_delay_s=300)
    delays = [policy.delay_before(attempt) for _ in range(50)]
    assert all(low <= d <= high for d in delays)
    assert len(set(delays)) > 1


def test_backoff_is_capped() -> None:
    policy = RetryPolicy(base_delay_s=2.0, max_delay_s=5.0)
    assert policy.delay_before(10) <= 5.0 * 1.2


def test_an_unusable_policy_is_refused() -> None:
    with pytest.raises(ValueError, match="max_attempts"):
        RetryPolicy(max_attempts=0)


def cancel_of(request: ImageJobRequested, recorded: bool) -> CancelRequested:
    return CancelRequested(
        job_id=request.job_id,
        user_id=request.user_id,
        requested_by="admin-1",
        requested_at=utcnow(),
        recorded=recorded,
    )


async def test_a_cancel_arriving_while_the_job_runs_stops_it_and_ends_it_cancelled() -> None:
    broker, request, registry = FakeBroker(), image_request(), CancelRegistry()
    ports = broker.ports()
    ports.cancels = registry
    reached_step = asyncio.Event()

    async def long_work(request: ImageJobRequested, events: AttemptEvents) -> JobResult:
        reached_step.set()
        await asyncio.sleep(60)
        raise AssertionError("not stopped")

    attempt = asyncio.create_task(run_attempt(request, ORIGIN, ports, long_work))
    await reached_step.wait()
    registry.add(cancel_of(request, recorded=False))
    await asyncio.wait_for(attempt, 5)

    assert broker.types == ["job.started", "job.cancelled"]
    cancelled = broker.events[-1]
    assert isinstance(cancelled, JobCancelled)
    assert (cancelled.cancelled_by, cancelled.while_running) == ("admin-1", True)
    assert broker.sent == []  # neither retried nor dead-lettered


async def test_the_request_of_a_job_the_gateway_already_cancelled_is_skipped_silently() -> None:
    broker, request = FakeBroker(), image_request()
    ports = broker.ports()
    ports.cancels.add(cancel_of(request, recorded=True))

    await run_attempt(request, ORIGIN, ports, succeeding)

    assert broker.events == [] and broker.sent == []


async def test_the_request_of_a_job_cancelled_while_it_ran_elsewhere_is_recorded_cancelled() -> (
    None
):
    broker, request = FakeBroker(), image_request(first_seq=5)
    ports = broker.ports()
    ports.cancels.add(cancel_of(request, recorded=False))

    await run_attempt(request, ORIGIN, ports, succeeding)

    assert broker.types == ["job.cancelled"]
    assert broker.events[0].seq == 5


async def test_a_long_quiet_step_sends_heartbeats_repeating_the_last_progress() -> None:
    broker = FakeBroker()

    async def slow_step(request: ImageJobRequested, events: AttemptEvents) -> JobResult:
        await broker.emit(events.progress(40, "step 2/5"))
        await asyncio.sleep(0.35)
        return JobResult(assets=[])

    policy = RetryPolicy(heartbeat_s=0.1)
    await run_attempt(image_request(), ORIGIN, broker.ports(policy), slow_step)

    beats = [e for e in broker.events[2:-1] if isinstance(e, JobProgress)]
    assert len(beats) >= 2
    assert {(b.percent, b.message) for b in beats} == {(40, "step 2/5")}
    seqs = [e.seq for e in broker.events]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)


def test_a_new_series_of_attempts_has_the_attempt_budget_anew() -> None:
    policy = RetryPolicy(max_attempts=3, base_delay_s=2.0)

    assert not policy.retries_after(3)  # the first series is spent
    assert policy.retries_after(4, series_start=4) and policy.retries_after(5, series_start=4)
    assert not policy.retries_after(6, series_start=4)
    assert policy.delay_before(5, series_start=4) <= 2.0 * 1.2  # backoff restarts too
