"""What the gateway knows of an input's size is enough to refuse, at submit, a job it cannot run:
an upscale whose output is over the limit, a video whose inputs together decode past the budget."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

import pytest

from darkroom.contracts.api import CreateUpscaleJob, CreateVideoJob
from darkroom.contracts.assets import JobResult, output_asset_id
from darkroom.contracts.topics import Topics
from darkroom.gateway.errors import InvalidInput
from darkroom.gateway.submit import Accepted, submit_upscale_job, submit_video_job
from darkroom.runtime.auth import Principal
from darkroom.runtime.db import JobRecord, UploadRecord
from darkroom.runtime.inputs import JobInputLimits
from tests.factories import OCCURRED_AT, asset_descriptor, job_record

TOPICS = Topics.with_suffix("unit")
USER = Principal(user_id="u-1", scope="api")


class FakeUploads:
    def __init__(self) -> None:
        self.records: dict[uuid.UUID, UploadRecord] = {}

    async def get(self, asset_id: uuid.UUID) -> UploadRecord | None:
        return self.records.get(asset_id)


class FakeStore:
    """Uploads and jobs by id, and every job it is asked to write (it is the writer too)."""

    def __init__(self) -> None:
        self.uploads = FakeUploads()
        self.jobs: dict[uuid.UUID, JobRecord] = {}
        self.written: list[Any] = []

    async def get_job(self, job_id: uuid.UUID) -> JobRecord | None:
        return self.jobs.get(job_id)

    async def create_jobs(self, plans: Sequence[Any]) -> None:
        self.written.extend(plans)

    def upload(self, width: int, height: int) -> str:
        asset_id = uuid.uuid4()
        self.uploads.records[asset_id] = UploadRecord(
            asset_id=asset_id,
            user_id=USER.user_id,
            key=f"uploads/{asset_id}.png",
            content_type="image/png",
            width=width,
            height=height,
            bytes=290_000,
            sha256="0" * 64,
            created_at=OCCURRED_AT,
        )
        return str(asset_id)

    def output(self, width: int, height: int) -> str:
        asset = asset_descriptor(width=width, height=height)
        result = JobResult(assets=[asset]).model_dump(mode="json")
        job = job_record("completed", result=result, user_id=USER.user_id)
        self.jobs[job.job_id] = job
        return output_asset_id(job.job_id, 0)


async def video(store: FakeStore, *images: dict[str, str], **limits: int) -> Accepted:
    body = CreateVideoJob.model_validate({"images": list(images)})
    return await submit_video_job(body, USER, store, store, TOPICS, JobInputLimits(**limits))  # type: ignore[arg-type]


async def upscale(store: FakeStore, image: dict[str, str], scale: int) -> Accepted:
    body = CreateUpscaleJob.model_validate({"image": image, "scale": scale})
    return await submit_upscale_job(body, USER, store, store, TOPICS)  # type: ignore[arg-type]


async def refusal(job: Any) -> InvalidInput:
    with pytest.raises(InvalidInput) as caught:
        await job
    return caught.value


async def test_a_video_naming_a_36_mp_upload_four_times_is_refused_at_images() -> None:
    # The job: 6000x6000 four times, 576 MB as a worker holds it (4 bytes a pixel).
    store = FakeStore()
    image = {"asset_id": store.upload(6000, 6000)}

    refused = await refusal(video(store, image, image, image, image))

    assert refused.loc == ("body", "images")
    assert str(refused) == (
        "the images decode to 576,000,000 bytes together (4 bytes a pixel); one job's limit is "
        "480,000,000: use fewer or smaller images"
    )
    assert store.written == []


async def test_four_camera_photos_fit_in_one_video_job() -> None:
    store = FakeStore()
    images = [{"asset_id": store.upload(6000, 4000)} for _ in range(4)]  # 24 MP each

    await video(store, *images)

    assert len(store.written) == 1


async def test_earlier_outputs_count_and_urls_do_not_since_their_size_is_unknown() -> None:
    store = FakeStore()
    output, url = {"asset_id": store.output(1000, 1000)}, {"url": "https://example.com/a.png"}

    refused = await refusal(video(store, output, url, output, max_job_decoded_bytes=7_999_999))
    await video(store, output, url, output, max_job_decoded_bytes=8_000_000)

    assert refused.loc == ("body", "images")
    assert len(store.written) == 1


async def test_an_upscale_over_the_output_limit_that_fits_at_scale_2_is_refused_at_scale() -> None:
    store = FakeStore()
    image = {"asset_id": store.upload(3000, 3000)}

    refused = await refusal(upscale(store, image, 4))
    await upscale(store, image, 2)

    assert refused.loc == ("body", "scale")
    assert str(refused) == (
        "3000x3000 x4 would be 144,000,000 pixels; the limit is 64,000,000: use scale 2"
    )
    assert len(store.written) == 1


async def test_an_upscale_too_large_even_at_scale_2_is_refused_at_the_image() -> None:
    store = FakeStore()
    image = {"asset_id": store.output(6000, 6000)}

    refused = await refusal(upscale(store, image, 2))

    assert refused.loc == ("body", "image", "asset_id")
    assert str(refused).endswith("the limit is 64,000,000: use a smaller image")
    assert store.written == []


async def test_an_upscale_of_a_url_is_left_to_the_worker() -> None:
    store = FakeStore()

    await upscale(store, {"url": "https://example.com/huge.png"}, 4)

    assert len(store.written) == 1
