"""Input images named by the caller: only their own uploads and completed outputs, or a URL."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from darkroom.contracts.api import ImageRef
from darkroom.contracts.assets import AssetDescriptor, JobResult, output_asset_id
from darkroom.contracts.params import InputImage
from darkroom.gateway.errors import InvalidInput
from darkroom.gateway.inputs import resolve_input
from darkroom.runtime.auth import Principal
from darkroom.runtime.db import JobRecord, UploadRecord
from tests.factories import OCCURRED_AT, asset_descriptor, job_record

OWNER = Principal(user_id="u-1", scope="api")
STRANGER = Principal(user_id="u-2", scope="api")
ADMIN = Principal(user_id="ops", scope="api", is_admin=True)
LOC = ("body", "image")


class FakeUploads:
    def __init__(self) -> None:
        self.records: dict[uuid.UUID, UploadRecord] = {}

    async def get(self, asset_id: uuid.UUID) -> UploadRecord | None:
        return self.records.get(asset_id)


class FakeInputStore:
    """The two reads `resolve_input` makes, from dicts."""

    def __init__(self) -> None:
        self.uploads = FakeUploads()
        self.jobs: dict[uuid.UUID, JobRecord] = {}

    async def get_job(self, job_id: uuid.UUID) -> JobRecord | None:
        return self.jobs.get(job_id)

    def add_upload(self, user_id: str = "u-1") -> UploadRecord:
        asset_id = uuid.uuid4()
        upload = UploadRecord(
            asset_id=asset_id,
            user_id=user_id,
            key=f"uploads/{user_id}/{asset_id}.png",
            content_type="image/png",
            width=64,
            height=48,
            bytes=1234,
            sha256="0" * 64,
            created_at=OCCURRED_AT,
        )
        self.uploads.records[asset_id] = upload
        return upload

    def add_job(self, status: str, *assets: AssetDescriptor, **overrides: Any) -> JobRecord:
        result = JobResult(assets=list(assets)).model_dump(mode="json") if assets else None
        job = job_record(status, result=result, **overrides)
        self.jobs[job.job_id] = job
        return job


async def resolve(store: FakeInputStore, user: Principal = OWNER, **ref: str) -> InputImage:
    return await resolve_input(ImageRef(**ref), user, store, LOC)  # type: ignore[arg-type]


async def refusal(store: FakeInputStore, user: Principal = OWNER, **ref: str) -> InvalidInput:
    with pytest.raises(InvalidInput) as info:
        await resolve(store, user, **ref)
    assert info.value.loc == (*LOC, "asset_id")
    return info.value


async def test_a_url_is_passed_on_for_the_worker_to_fetch() -> None:
    url = "https://images.example.com/a.png"

    assert await resolve(FakeInputStore(), url=url) == InputImage(url=url)


async def test_an_own_upload_resolves_to_its_object_key() -> None:
    store = FakeInputStore()
    upload = store.add_upload("u-1")

    source = await resolve(store, asset_id=str(upload.asset_id))

    assert source == InputImage(key=upload.key, asset_id=str(upload.asset_id))


async def test_another_users_upload_is_refused_like_a_missing_one() -> None:
    store = FakeInputStore()
    upload = store.add_upload("u-1")

    refused = await refusal(store, STRANGER, asset_id=str(upload.asset_id))
    missing = await refusal(store, STRANGER, asset_id=str(uuid.uuid4()))

    assert str(refused).startswith("no upload")
    assert str(missing).startswith("no upload")


async def test_an_admin_may_use_anyones_upload() -> None:
    store = FakeInputStore()
    upload = store.add_upload("u-1")

    source = await resolve(store, ADMIN, asset_id=str(upload.asset_id))

    assert source.key == upload.key


async def test_a_completed_jobs_output_resolves_to_its_key() -> None:
    store = FakeInputStore()
    outputs = [asset_descriptor(), asset_descriptor(content_type="image/webp")]
    job = store.add_job("completed", *outputs)
    asset_id = output_asset_id(job.job_id, 1)

    source = await resolve(store, asset_id=asset_id)

    assert source == InputImage(key=outputs[1].key, asset_id=asset_id)


async def test_an_output_of_a_batch_that_completed_with_errors_may_be_used() -> None:
    store = FakeInputStore()
    output = asset_descriptor()
    job = store.add_job("completed_with_errors", output, type="batch")

    source = await resolve(store, asset_id=output_asset_id(job.job_id, 0))

    assert source.key == output.key


async def test_another_users_job_output_is_refused() -> None:
    store = FakeInputStore()
    job = store.add_job("completed", asset_descriptor(), user_id="u-1")

    refused = await refusal(store, STRANGER, asset_id=output_asset_id(job.job_id, 0))

    assert "of yours" in str(refused)


@pytest.mark.parametrize("status", ["queued", "running", "retrying", "failed", "cancelled"])
async def test_an_output_of_a_job_that_did_not_complete_is_refused(status: str) -> None:
    store = FakeInputStore()
    job = store.add_job(status, asset_descriptor())

    refused = await refusal(store, asset_id=output_asset_id(job.job_id, 0))

    assert f"is {status}" in str(refused)


async def test_an_output_index_past_the_jobs_outputs_is_refused() -> None:
    store = FakeInputStore()
    job = store.add_job("completed", asset_descriptor(), asset_descriptor())

    refused = await refusal(store, asset_id=output_asset_id(job.job_id, 2))

    assert "has 2 outputs; no index 2" in str(refused)


async def test_a_video_output_is_not_an_input_image() -> None:
    store = FakeInputStore()
    clip = asset_descriptor(key="jobs/x/0.mp4", content_type="video/mp4", frames=8)
    job = store.add_job("completed", clip, type="video")

    refused = await refusal(store, asset_id=output_asset_id(job.job_id, 0))

    assert "video/mp4" in str(refused)


async def test_the_location_names_the_position_of_the_image_in_the_body() -> None:
    loc = ("body", "images", 2)

    with pytest.raises(InvalidInput) as info:
        await resolve_input(
            ImageRef(asset_id=str(uuid.uuid4())),
            OWNER,
            FakeInputStore(),  # type: ignore[arg-type]
            loc,
        )

    assert info.value.loc == ("body", "images", 2, "asset_id")
