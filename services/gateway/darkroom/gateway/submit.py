"""Use case: accept an image job (store it and its messages durably, in one transaction)."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from darkroom.contracts.api import CreateImageJob, resolve_size
from darkroom.contracts.catalog import default_model
from darkroom.contracts.envelope import make_event_id, utcnow
from darkroom.contracts.events import JobEvent, JobQueued, encode_event
from darkroom.contracts.jobtypes import JobType
from darkroom.contracts.params import MAX_SEED, ImageParams
from darkroom.contracts.requests import ImageJobRequested
from darkroom.contracts.topics import Topics
from darkroom.runtime.auth import Principal
from darkroom.runtime.db import NewJob, OutboxMessage
from darkroom.runtime.kafka import event_headers
from darkroom.runtime.telemetry import current_trace

QUEUED_SEQ = 1


class JobWriter(Protocol):
    """Where accepted jobs are stored durably (a group-committing writer in the gateway)."""

    async def create_job(
        self, job: NewJob, events: Sequence[JobEvent], messages: Sequence[OutboxMessage]
    ) -> None: ...


@dataclass(frozen=True)
class Accepted:
    job_id: uuid.UUID
    created_at: datetime


def resolve_params(body: CreateImageJob) -> ImageParams:
    """Explicit parameters: size from the aspect ratio, a seed chosen when none was given."""
    width, height = resolve_size(body)
    return ImageParams(
        prompt=body.prompt,
        negative_prompt=body.negative_prompt,
        num_images=body.num_images,
        width=width,
        height=height,
        seed=body.seed if body.seed is not None else secrets.randbelow(MAX_SEED + 1),
        model=body.model or default_model(body.provider),
        provider=body.provider,
    )


async def submit_image_job(
    body: CreateImageJob, user: Principal, store: JobWriter, topics: Topics
) -> Accepted:
    """Store the job with its `job.queued` event and request in the outbox; the relay publishes them."""
    job_id, now, params, trace = uuid.uuid4(), utcnow(), resolve_params(body), current_trace()
    queued = JobQueued(
        event_id=make_event_id(job_id, 1, QUEUED_SEQ, "job.queued"),
        job_id=job_id,
        user_id=user.user_id,
        job_type=JobType.IMAGE,
        occurred_at=now,
        attempt=1,
        seq=QUEUED_SEQ,
        trace=trace,
        params=params,
    )
    request = ImageJobRequested(
        request_id=uuid.uuid4(),
        job_id=job_id,
        user_id=user.user_id,
        attempt=1,
        first_seq=QUEUED_SEQ + 1,
        requested_at=now,
        params=params,
        priority=body.priority,
        trace=trace,
    )
    key = str(job_id)
    messages = [
        OutboxMessage(topics.events, key, encode_event(queued), event_headers(queued)),
        OutboxMessage(
            topics.requested(JobType.IMAGE, body.priority),
            key,
            request.model_dump_json().encode(),
            {"content-type": "application/json", "request-id": str(request.request_id)},
        ),
    ]
    job = NewJob(
        job_id=job_id,
        user_id=user.user_id,
        type=JobType.IMAGE,
        params=params.model_dump(mode="json"),
        created_at=now,
        last_seq=QUEUED_SEQ,
        priority=body.priority.value,
    )
    await store.create_job(job, [queued], messages)
    return Accepted(job_id=job_id, created_at=now)
