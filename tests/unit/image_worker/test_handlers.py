"""Image attempts through the shared machinery: events numbered and identified deterministically."""

import hashlib
from functools import partial

import pytest

from darkroom.contracts.errors import ErrorCode
from darkroom.contracts.events import JobCompleted, JobEvent, JobFailed, JobProgress
from darkroom.contracts.requests import ImageJobRequested
from darkroom.image_worker.handlers import WorkerDeps, generate_images
from darkroom.runtime.kafka import EmitFailed
from darkroom.runtime.storage import StoreUnavailable
from darkroom.runtime.worker import RetryPolicy, run_attempt
from tests.factories import image_params, image_request
from tests.unit.image_worker.fakes import FakeObjectStore, FakeProvider
from tests.unit.runtime.worker_fakes import ORIGIN, FakeBroker

ONE_ATTEMPT = RetryPolicy(max_attempts=1)

STEPS = 4


async def run(
    request: ImageJobRequested,
    provider: FakeProvider | None = None,
    store: FakeObjectStore | None = None,
) -> list[JobEvent]:
    """Run one attempt of `request` (no retries); returns the events emitted, in order."""
    broker = FakeBroker()
    deps = WorkerDeps(
        {"local": provider or FakeProvider(STEPS)}, store or FakeObjectStore(), broker.emit
    )
    work = partial(generate_images, deps=deps)
    await run_attempt(request, ORIGIN, broker.ports(ONE_ATTEMPT), work)
    return broker.events


async def test_an_attempt_emits_started_progress_per_step_then_completed() -> None:
    request = image_request(attempt=2, first_seq=7)

    events = await run(request)

    assert [e.type for e in events] == ["job.started"] + ["job.progress"] * STEPS + [
        "job.completed"
    ]
    assert [e.seq for e in events] == list(range(7, 7 + STEPS + 2))
    assert {(e.job_id, e.user_id, e.attempt) for e in events} == {
        (request.job_id, request.user_id, 2)
    }
    assert events[0].worker_id == "worker-1"  # type: ignore[union-attr]


async def test_progress_percent_never_decreases_and_stays_below_100() -> None:
    events = await run(image_request())

    percents = [e.percent for e in events if isinstance(e, JobProgress)]
    assert percents == sorted(percents)
    assert 0 < percents[0] and percents[-1] < 100


async def test_assets_get_deterministic_keys_per_run_and_exact_descriptors() -> None:
    request = image_request(params=image_params(num_images=2, width=128, height=96))
    store = FakeObjectStore()

    *_, completed = await run(request, store=store)

    assert isinstance(completed, JobCompleted)
    assets = completed.result.assets
    assert [a.key for a in assets] == [
        f"jobs/{request.job_id}/{request.request_id}/{i}.png" for i in range(2)
    ]
    for asset in assets:
        data, content_type = store.objects[asset.key]
        assert (asset.bytes, asset.sha256) == (len(data), hashlib.sha256(data).hexdigest())
        assert (asset.width, asset.height, asset.content_type) == (128, 96, content_type)


async def test_running_the_same_request_twice_gives_identical_event_ids_and_keys() -> None:
    request, store = image_request(params=image_params(num_images=3)), FakeObjectStore()

    first = await run(request, store=store)
    second = await run(request, store=store)

    assert [e.event_id for e in first] == [e.event_id for e in second]
    assert len({e.event_id for e in first}) == len(first)
    assert first[-1].result == second[-1].result  # type: ignore[union-attr]
    assert len(store.objects) == 3


@pytest.mark.parametrize(
    ("error", "code", "retryable"),
    [
        (ValueError("width too large for this model"), ErrorCode.INVALID_INPUT, False),
        (TimeoutError(), ErrorCode.PROVIDER_TIMEOUT, True),  # the provider's, not the job's
        (ConnectionError("refused"), ErrorCode.PROVIDER_UNAVAILABLE, True),
        (RuntimeError("bug"), ErrorCode.INTERNAL, False),
    ],
)
async def test_a_provider_error_ends_the_attempt_with_job_failed(
    error: Exception, code: ErrorCode, retryable: bool
) -> None:
    events = await run(image_request(), provider=FakeProvider(STEPS, error=error))

    *_, failed = events
    assert isinstance(failed, JobFailed)
    assert (failed.code, failed.retryable) == (code, retryable)
    assert [e.type for e in events].count("job.completed") == 0
    assert [e.seq for e in events] == list(range(2, 2 + len(events)))


async def test_an_unavailable_store_fails_the_job_as_a_retryable_storage_error() -> None:
    store = FakeObjectStore(error=StoreUnavailable("bucket unreachable"))

    *_, failed = await run(image_request(), store=store)

    assert isinstance(failed, JobFailed)
    assert (failed.code, failed.retryable) == (ErrorCode.STORAGE_ERROR, True)


@pytest.mark.parametrize("failing_type", ["job.started", "job.progress", "job.completed"])
async def test_an_unacknowledged_emit_propagates_without_a_job_failed(failing_type: str) -> None:
    broker = FakeBroker()

    async def emit(event: JobEvent) -> None:
        if event.type == failing_type:
            raise EmitFailed("broker did not acknowledge")
        await broker.emit(event)

    ports = broker.ports(ONE_ATTEMPT)
    ports.emit = emit
    deps = WorkerDeps({"local": FakeProvider(STEPS)}, FakeObjectStore(), emit)
    with pytest.raises(EmitFailed):
        await run_attempt(image_request(), ORIGIN, ports, partial(generate_images, deps=deps))

    assert "job.failed" not in broker.types
