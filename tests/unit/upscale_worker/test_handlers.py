"""Upscale and variants attempts: read the input, store the outputs under deterministic keys."""

from __future__ import annotations

import io
import uuid
from typing import Any

import pytest
from PIL import Image

from darkroom.contracts.errors import ErrorCode
from darkroom.contracts.events import JobEvent, JobProgress
from darkroom.contracts.jobtypes import JobType
from darkroom.contracts.params import InputImage, UpscaleParams, VariantsParams
from darkroom.contracts.requests import UpscaleJobRequested, VariantsJobRequested
from darkroom.runtime.inputs import InputSettings
from darkroom.runtime.job_events import AttemptEvents
from darkroom.runtime.worker.errors import PermanentError, RetryableError
from darkroom.upscale_worker.handlers import WorkerDeps, make_variants, upscale_image
from darkroom.upscale_worker.providers.local_provider import LocalProvider
from tests.factories import OCCURRED_AT, random_job_id, random_user_id
from tests.unit.image_worker.fakes import FakeObjectStore

INPUT_KEY = "uploads/u-1/input.png"


def png(width: int, height: int) -> bytes:
    image = Image.new("RGB", (width, height))
    image.putdata([(x * 6 % 256, y * 8 % 256, 90) for y in range(height) for x in range(width)])
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def envelope(**overrides: Any) -> dict[str, Any]:
    return {
        "request_id": uuid.uuid4(),
        "job_id": random_job_id(),
        "user_id": random_user_id(),
        "first_seq": 3,
        "requested_at": OCCURRED_AT,
    } | overrides


def upscale_request(source: InputImage, **overrides: Any) -> UpscaleJobRequested:
    params = UpscaleParams(input=source, scale=2, format="png")
    return UpscaleJobRequested.model_validate(envelope(params=params, **overrides))


class Harness:
    """A store holding the input, and every event the handler emits."""

    def __init__(self, width: int = 40, height: int = 30) -> None:
        self.store = FakeObjectStore()
        self.store.objects[INPUT_KEY] = (png(width, height), "image/png")
        self.emitted: list[JobEvent] = []
        local = LocalProvider(InputSettings(_env_file=None))
        local_only = {"local": local}
        self.deps = WorkerDeps(local_only, local_only, self.store, self.emit, InputSettings())

    async def emit(self, event: JobEvent) -> None:
        self.emitted.append(event)

    def stored(self) -> dict[str, tuple[bytes, str]]:
        return {k: v for k, v in self.store.objects.items() if k != INPUT_KEY}


async def test_an_upscale_stores_one_image_exactly_twice_the_input_size() -> None:
    harness = Harness(40, 30)
    request = upscale_request(InputImage(key=INPUT_KEY), parent_id=uuid.uuid4())

    result = await upscale_image(request, AttemptEvents(request, JobType.UPSCALE), harness.deps)

    [asset] = result.assets
    assert asset.key == f"jobs/{request.job_id}/{request.request_id}/0.png"
    assert (asset.width, asset.height, asset.content_type) == (80, 60, "image/png")
    assert list(harness.stored()) == [asset.key]
    data, _ = harness.store.objects[asset.key]
    assert Image.open(io.BytesIO(data)).size == (80, 60)
    assert asset.bytes == len(data)


async def test_an_upscale_reports_progress_before_it_returns() -> None:
    harness = Harness()
    request = upscale_request(InputImage(key=INPUT_KEY), first_seq=5, parent_id=uuid.uuid4())

    await upscale_image(request, AttemptEvents(request, JobType.UPSCALE), harness.deps)

    assert harness.emitted
    assert all(isinstance(e, JobProgress) for e in harness.emitted)
    percents = [e.percent for e in harness.emitted]  # type: ignore[union-attr]
    assert percents == sorted(percents) and percents[-1] < 100
    assert [e.seq for e in harness.emitted] == list(range(5, 5 + len(harness.emitted)))
    assert {(e.job_id, e.job_type, e.parent_id) for e in harness.emitted} == {
        (request.job_id, JobType.UPSCALE, request.parent_id)
    }


async def test_variants_store_six_files_at_three_widths_in_two_formats() -> None:
    harness = Harness(80, 20)
    params = VariantsParams(input=InputImage(key=INPUT_KEY))
    request = VariantsJobRequested.model_validate(envelope(params=params))

    result = await make_variants(request, AttemptEvents(request, JobType.VARIANTS), harness.deps)

    assets = result.assets
    assert [a.width for a in assets] == [640, 640, 1024, 1024, 1920, 1920]
    assert [a.height for a in assets] == [160, 160, 256, 256, 480, 480]
    assert [a.content_type for a in assets] == ["image/webp", "image/avif"] * 3
    expected_keys = [
        f"jobs/{request.job_id}/{request.request_id}/{i}.{ext}"
        for i, ext in enumerate(["webp", "avif"] * 3)
    ]
    assert [a.key for a in assets] == expected_keys
    assert sorted(harness.stored()) == sorted(expected_keys)


async def test_a_missing_input_key_is_refused_for_good() -> None:
    harness = Harness()
    source = InputImage(key="uploads/u-1/gone.png", asset_id=str(uuid.uuid4()))
    request = upscale_request(source)

    with pytest.raises(PermanentError) as info:
        await upscale_image(request, AttemptEvents(request, JobType.UPSCALE), harness.deps)

    assert info.value.code is ErrorCode.INPUT_REFUSED
    assert source.asset_id in str(info.value)
    assert harness.stored() == {}


async def test_an_input_that_is_not_an_image_is_refused_for_good() -> None:
    harness = Harness()
    harness.store.objects[INPUT_KEY] = (b"%PDF-1.7 not an image", "image/png")
    request = upscale_request(InputImage(key=INPUT_KEY))

    with pytest.raises(PermanentError) as info:
        await upscale_image(request, AttemptEvents(request, JobType.UPSCALE), harness.deps)

    assert info.value.code is ErrorCode.INPUT_REFUSED


async def test_a_url_to_a_loopback_address_is_refused_before_connecting() -> None:
    harness = Harness()
    request = upscale_request(InputImage(url="http://127.0.0.1/x"))

    with pytest.raises(PermanentError) as info:
        await upscale_image(request, AttemptEvents(request, JobType.UPSCALE), harness.deps)

    assert info.value.code is ErrorCode.INPUT_REFUSED
    assert "refused" in str(info.value)
    assert harness.stored() == {}


class StepsThenRefusal:
    """A hosted upscaler's stand-in: two steps with notes, then a retryable refusal."""

    async def upscale(self, params: Any, image: Any, on_step: Any) -> Any:
        await on_step(1, 4, "prediction created")
        await on_step(4, 4)
        raise RetryableError(ErrorCode.PROVIDER_UNAVAILABLE, "the model crashed")


async def test_a_providers_steps_are_progress_between_reading_and_storing() -> None:
    harness = Harness()
    harness.deps.upscalers = {"remote": StepsThenRefusal()}  # type: ignore[dict-item]
    source = InputImage(key=INPUT_KEY)
    request = upscale_request(source).model_copy(
        update={"params": UpscaleParams(input=source, scale=2, format="png", provider="remote")}
    )

    with pytest.raises(RetryableError):
        await upscale_image(request, AttemptEvents(request, JobType.UPSCALE), harness.deps)

    progress = [(e.percent, e.message) for e in harness.emitted]  # type: ignore[union-attr]
    assert progress == [(5, "reading the input"), (37, "prediction created"), (90, "step 4/4")]


async def test_a_job_naming_a_provider_this_worker_lacks_is_retried_elsewhere() -> None:
    harness = Harness()
    source = InputImage(key=INPUT_KEY)
    params = UpscaleParams(input=source, scale=2, format="png", provider="replicate")
    request = upscale_request(source).model_copy(update={"params": params})

    with pytest.raises(RetryableError) as info:
        await upscale_image(request, AttemptEvents(request, JobType.UPSCALE), harness.deps)

    assert info.value.code is ErrorCode.PROVIDER_UNAVAILABLE
    assert "'replicate' is not configured on this worker" in str(info.value)
    assert harness.emitted == [] and harness.stored() == {}
