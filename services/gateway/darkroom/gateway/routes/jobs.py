"""Job routes: submit (image, upscale, video, batch), status, cancel, retry, history, list."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Query, Response

from darkroom.contracts.api import (
    CancelAnswer,
    CreateBatchJob,
    CreateImageJob,
    CreateUpscaleJob,
    CreateVideoJob,
    JobAccepted,
    JobEventList,
    JobPage,
    JobView,
)
from darkroom.contracts.jobtypes import JobStatus, JobType
from darkroom.gateway.cancel import cancel_job
from darkroom.gateway.choices import chosen_model, chosen_steps
from darkroom.gateway.deps import CurrentUser, RejectUnknownQuery, Services, ServicesDep
from darkroom.gateway.errors import JobNotFound, JobNotRetryable
from darkroom.gateway.retry import retry_job
from darkroom.gateway.settings import GatewaySettings
from darkroom.gateway.submit import (
    Accepted,
    submit_batch_job,
    submit_image_job,
    submit_upscale_job,
    submit_video_job,
)
from darkroom.gateway.views import job_view
from darkroom.gateway.webhooks.destination import check_webhook_url
from darkroom.runtime.auth import Principal
from darkroom.runtime.db import JobRecord, JobStore
from darkroom.runtime.db.cursor import Cursor

router = APIRouter(prefix="/v1/jobs", tags=["jobs"], dependencies=[RejectUnknownQuery])


async def owned_job(store: JobStore, job_id: uuid.UUID, user: Principal) -> JobRecord:
    """The job if the caller may see it; another user's job is 404, exactly like a missing one."""
    record = await store.get_job(job_id)
    if record is None or (record.user_id != user.user_id and not user.is_admin):
        raise JobNotFound(str(job_id))
    return record


def accepted_answer(
    job_id: uuid.UUID,
    created_at: datetime,
    settings: GatewaySettings,
    response: Response,
    job_type: JobType = JobType.IMAGE,
    children: list[uuid.UUID] | None = None,
) -> JobAccepted:
    status_url = f"{settings.public_base_url}/v1/jobs/{job_id}"
    response.headers["Location"] = status_url
    return JobAccepted(
        job_id=job_id,
        type=job_type,
        status=JobStatus.QUEUED,
        status_url=status_url,
        events_url=f"{settings.notifier_public_url}/v1/jobs/{job_id}/events",
        created_at=created_at,
        children=children or [],
    )


def _answer(accepted: Accepted, services: Services, response: Response) -> JobAccepted:
    return accepted_answer(
        accepted.job_id,
        accepted.created_at,
        services.settings,
        response,
        accepted.type,
        accepted.children,
    )


@router.post(
    "/image", status_code=202, response_model=JobAccepted, summary="Submit a text-to-image job"
)
async def create_image_job(
    body: CreateImageJob, user: CurrentUser, services: ServicesDep, response: Response
) -> JobAccepted:
    """With `then`, the answer is a chain job (`type: chain`) whose children are the steps."""
    await check_webhook_url(body, services.settings.webhook_policy)
    model = chosen_model(services.providers, JobType.IMAGE, body)
    body = body.model_copy(update={"then": chosen_steps(services.providers, body.then)})
    accepted = await submit_image_job(body, user, services.writer, services.settings.topics, model)
    return _answer(accepted, services, response)


@router.post(
    "/upscale", status_code=202, response_model=JobAccepted, summary="Submit an upscale job"
)
async def create_upscale_job(
    body: CreateUpscaleJob, user: CurrentUser, services: ServicesDep, response: Response
) -> JobAccepted:
    """The output is exactly `scale` times the input's size. An input asset must be yours (422
    otherwise); a URL is fetched by the worker, public addresses only."""
    await check_webhook_url(body, services.settings.webhook_policy)
    settings = services.settings
    model = chosen_model(services.providers, JobType.UPSCALE, body)
    body = body.model_copy(update={"then": chosen_steps(services.providers, body.then)})
    accepted = await submit_upscale_job(
        body,
        user,
        services.writer,
        services.store,
        settings.topics,
        settings.job_input_limits,
        model,
    )
    return _answer(accepted, services, response)


@router.post("/video", status_code=202, response_model=JobAccepted, summary="Submit a video job")
async def create_video_job(
    body: CreateVideoJob, user: CurrentUser, services: ServicesDep, response: Response
) -> JobAccepted:
    """An H.264 MP4 and a poster image, from a prompt, input images, or both."""
    await check_webhook_url(body, services.settings.webhook_policy)
    settings = services.settings
    model = chosen_model(services.providers, JobType.VIDEO, body)
    accepted = await submit_video_job(
        body,
        user,
        services.writer,
        services.store,
        settings.topics,
        settings.job_input_limits,
        model,
    )
    return _answer(accepted, services, response)


@router.post(
    "/batch", status_code=202, response_model=JobAccepted, summary="Submit a batch of image jobs"
)
async def create_batch_job(
    body: CreateBatchJob, user: CurrentUser, services: ServicesDep, response: Response
) -> JobAccepted:
    """One child image job per prompt; the batch ends when every child has ended: `completed`,
    `completed_with_errors` (listing the children that did not complete) or `failed`."""
    await check_webhook_url(body, services.settings.webhook_policy)
    model = chosen_model(services.providers, JobType.IMAGE, body)
    accepted = await submit_batch_job(body, user, services.writer, services.settings.topics, model)
    return _answer(accepted, services, response)


@router.post(
    "/{job_id}/retry",
    status_code=202,
    response_model=JobAccepted,
    summary="Send a failed job back to the queue",
    responses={409: {"description": "The job is not failed (the reason says what it is)."}},
)
async def retry_failed_job(
    job_id: uuid.UUID, user: CurrentUser, services: ServicesDep, response: Response
) -> JobAccepted:
    """The same job runs again: a new series of attempts with the attempt budget anew, announced by
    `job.requeued`; the batch or chain it ended is reopened and goes on. For a failed batch or
    chain (or one completed with errors): its failed children run again. Owner or admin; only a
    failed job (409 otherwise, with the reason)."""
    await owned_job(services.store, job_id, user)
    retried = await retry_job(services.store, job_id, user.user_id, services.settings.topics)
    if retried is None:
        raise JobNotFound(str(job_id))
    before = retried.before
    if retried.runs == 0:
        ended_with_failures = before.status in ("failed", "completed_with_errors")
        parent = JobType(before.type).is_parent and ended_with_failures
        raise JobNotRetryable(
            before.status,
            f"this {before.type} has no failed children to retry" if parent else None,
        )
    return accepted_answer(job_id, before.created_at, services.settings, response)


@router.get("/{job_id}", response_model=JobView, summary="A job's status and results")
async def get_job(job_id: uuid.UUID, user: CurrentUser, services: ServicesDep) -> JobView:
    record = await owned_job(services.store, job_id, user)
    children = await services.store.children_of(job_id) if JobType(record.type).is_parent else None
    return await job_view(
        record, services.objects, timedelta(seconds=services.settings.asset_url_ttl_s), children
    )


@router.delete(
    "/{job_id}",
    response_model=CancelAnswer,
    summary="Cancel a job",
    responses={202: {"model": CancelAnswer, "description": "Running: it stops at its next step."}},
)
async def delete_job(
    job_id: uuid.UUID, user: CurrentUser, services: ServicesDep, response: Response
) -> CancelAnswer:
    """Cancel a job of the caller (any job, for an admin). Cancelling twice, or cancelling a job
    that has ended, changes nothing and says so (200)."""
    record = await owned_job(services.store, job_id, user)
    result = await cancel_job(services.store, record, user, services.settings.topics)
    if result is None:
        raise JobNotFound(str(job_id))
    if result.outcome == "stopping":
        response.status_code = 202
    return result


@router.get(
    "/{job_id}/events", response_model=JobEventList, summary="A job's event history, in order"
)
async def get_job_events(
    job_id: uuid.UUID, user: CurrentUser, services: ServicesDep
) -> JobEventList:
    await owned_job(services.store, job_id, user)
    return JobEventList(job_id=job_id, events=await services.store.events_for(job_id))


@router.get("", response_model=JobPage, summary="The caller's jobs, newest first")
async def list_jobs(
    user: CurrentUser,
    services: ServicesDep,
    limit: Annotated[int, Query(ge=1, le=100, description="Jobs per page, at most 100.")] = 20,
    cursor: Annotated[str | None, Query(description="`next_cursor` of the previous page.")] = None,
    status: Annotated[JobStatus | None, Query(description="Only jobs in this state.")] = None,
    type: Annotated[JobType | None, Query(description="Only jobs of this type.")] = None,
) -> JobPage:
    records, next_cursor = await services.store.list_jobs(
        user.user_id,
        limit=limit,
        cursor=Cursor.decode(cursor) if cursor else None,
        status=status.value if status else None,
        job_type=type.value if type else None,
    )
    ttl = timedelta(seconds=services.settings.asset_url_ttl_s)
    items = [await job_view(r, services.objects, ttl) for r in records]
    return JobPage(items=items, next_cursor=next_cursor.encode() if next_cursor else None)
