"""Job records as API views, with signed download URLs for the assets."""

from __future__ import annotations

from datetime import timedelta

from darkroom.contracts.api import AssetView, ChildView, JobError, JobView, UploadView
from darkroom.contracts.assets import JobResult, output_asset_id
from darkroom.contracts.jobtypes import Priority
from darkroom.contracts.params import parse_params
from darkroom.runtime.db import JobRecord
from darkroom.runtime.db.uploads import UploadRecord
from darkroom.runtime.storage import ObjectStore


async def job_view(
    record: JobRecord,
    objects: ObjectStore,
    url_ttl: timedelta,
    children: list[JobRecord] | None = None,
) -> JobView:
    """What the job's owner sees; `children` for a batch or chain read on its own (GET)."""
    assets: list[AssetView] = []
    if record.result is not None:
        for index, asset in enumerate(JobResult.model_validate(record.result).assets):
            signed = await objects.signed_url(asset.key, url_ttl)
            assets.append(
                AssetView(
                    **asset.model_dump(),
                    asset_id=output_asset_id(record.job_id, index),
                    url=signed.url,
                    url_expires_at=signed.expires_at,
                )
            )
    return JobView(
        job_id=record.job_id,
        type=record.type,
        status=record.status,
        progress=record.progress,
        message=record.message,
        attempts=record.attempts,
        priority=Priority(record.priority),
        params=parse_params(record.params),
        parent_id=record.parent_id,
        children=[child_view(c) for c in children] if children is not None else None,
        created_at=record.created_at,
        updated_at=record.updated_at,
        started_at=record.started_at,
        finished_at=record.finished_at,
        error=JobError.model_validate(record.error) if record.error else None,
        assets=assets,
    )


def child_view(record: JobRecord) -> ChildView:
    return ChildView(
        job_id=record.job_id,
        type=record.type,
        status=record.status,
        progress=record.progress,
        error=JobError.model_validate(record.error) if record.error else None,
    )


async def upload_view(upload: UploadRecord, objects: ObjectStore, url_ttl: timedelta) -> UploadView:
    signed = await objects.signed_url(upload.key, url_ttl)
    return UploadView(
        asset_id=str(upload.asset_id),
        content_type=upload.content_type,
        width=upload.width,
        height=upload.height,
        bytes=upload.bytes,
        sha256=upload.sha256,
        created_at=upload.created_at,
        url=signed.url,
        url_expires_at=signed.expires_at,
    )
