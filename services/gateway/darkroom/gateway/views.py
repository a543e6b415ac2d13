"""Job records as API views, with signed download URLs for the assets."""

from __future__ import annotations

from datetime import timedelta

from darkroom.contracts.api import AssetView, JobError, JobView
from darkroom.contracts.assets import JobResult
from darkroom.contracts.jobtypes import Priority
from darkroom.contracts.params import ImageParams
from darkroom.runtime.db import JobRecord
from darkroom.runtime.storage import ObjectStore


async def job_view(record: JobRecord, objects: ObjectStore, url_ttl: timedelta) -> JobView:
    """What the job's owner sees."""
    assets: list[AssetView] = []
    if record.result is not None:
        for asset in JobResult.model_validate(record.result).assets:
            signed = await objects.signed_url(asset.key, url_ttl)
            assets.append(
                AssetView(**asset.model_dump(), url=signed.url, url_expires_at=signed.expires_at)
            )
    return JobView(
        job_id=record.job_id,
        type=record.type,
        status=record.status,
        progress=record.progress,
        message=record.message,
        attempts=record.attempts,
        priority=Priority(record.priority),
        params=ImageParams.model_validate(record.params),
        created_at=record.created_at,
        updated_at=record.updated_at,
        started_at=record.started_at,
        finished_at=record.finished_at,
        error=JobError.model_validate(record.error) if record.error else None,
        assets=assets,
    )
