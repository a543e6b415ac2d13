"""Use cases: accept a job of any type (store it and its messages durably, in one transaction).

- image, upscale, video: the job, its `job.queued` and its request;
- batch: the parent and one child image job per prompt, all in one transaction;
- an image or upscale job with `then`: a chain parent and its first step; each later step is
  created by the projector when the step before it completes (`darkroom.gateway.families`).
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from darkroom.contracts.api import (
    CreateBatchJob,
    CreateImageJob,
    CreateUpscaleJob,
    CreateVideoJob,
    ImageOptions,
    resolve_size,
)
from darkroom.contracts.catalog import VIDEO_SIZES
from darkroom.contracts.envelope import TraceContext, utcnow
from darkroom.contracts.jobtypes import JobType, Priority
from darkroom.contracts.params import (
    MAX_SEED,
    BatchParams,
    ChainParams,
    ChainStep,
    ImageParams,
    JobParams,
    UpscaleParams,
    VideoParams,
)
from darkroom.contracts.topics import Topics
from darkroom.contracts.webhooks import WebhookSubscription
from darkroom.gateway.errors import PriorityNotAllowed
from darkroom.gateway.input_costs import resolve_upscale_input, resolve_video_inputs
from darkroom.jobs.plans.submit import QUEUED_SEQ, JobSpec, new_job
from darkroom.jobs.records import NewJobPlan
from darkroom.runtime.auth import Principal
from darkroom.runtime.db import JobStore
from darkroom.runtime.inputs import JobInputLimits
from darkroom.runtime.telemetry import current_trace

__all__ = ["QUEUED_SEQ", "Accepted", "JobWriter", "submit_image_job"]


class JobWriter(Protocol):
    """Where accepted jobs are stored durably (a group-committing writer in the gateway)."""

    async def create_jobs(self, plans: Sequence[NewJobPlan]) -> None: ...


@dataclass(frozen=True)
class Accepted:
    job_id: uuid.UUID
    created_at: datetime
    type: JobType = JobType.IMAGE
    children: list[uuid.UUID] = field(default_factory=list)


@dataclass(frozen=True)
class Submission:
    """What every submit shares: who, where to, when, under which trace, which webhook."""

    user: Principal
    writer: JobWriter
    topics: Topics
    now: datetime = field(default_factory=utcnow)
    trace: TraceContext | None = field(default_factory=current_trace)
    webhook: WebhookSubscription | None = None  # the submitted job's (not its children's)

    def write(
        self,
        job_type: JobType,
        params: JobParams,
        priority: Priority,
        *,
        job_id: uuid.UUID | None = None,
        parent_id: uuid.UUID | None = None,
        created_at: datetime | None = None,
    ) -> NewJobPlan:
        # Every job of every submit is written here: one check covers them all, children included.
        if priority is Priority.HIGH and not (
            self.user.is_admin or priority in self.user.priorities
        ):
            raise PriorityNotAllowed(priority.value)
        spec = JobSpec(
            job_id=job_id or uuid.uuid4(),
            user_id=self.user.user_id,
            job_type=job_type,
            params=params,
            priority=priority,
            parent_id=parent_id,
            trace=self.trace,
            webhook=self.webhook if parent_id is None else None,
        )
        return new_job(spec, self.topics, created_at or self.now)

    async def one(self, job_type: JobType, params: JobParams, priority: Priority) -> Accepted:
        write = self.write(job_type, params, priority)
        await self.writer.create_jobs([write])
        return Accepted(write.job.job_id, self.now, job_type)

    async def chain(
        self,
        first_type: JobType,
        first: ImageParams | UpscaleParams,
        steps: Sequence[ChainStep],
        priority: Priority,
    ) -> Accepted:
        """The chain parent and its first step (the projector starts each later step)."""
        chain_id = uuid.uuid4()
        params = ChainParams(first=first, steps=tuple(steps))
        parent = self.write(JobType.CHAIN, params, priority, job_id=chain_id)
        step = self.write(
            first_type, first, priority, parent_id=chain_id, created_at=_after(self.now, 1)
        )
        await self.writer.create_jobs([parent, step])
        return Accepted(chain_id, self.now, JobType.CHAIN, [step.job.job_id])


def _after(now: datetime, index: int) -> datetime:
    """Children are ordered by creation time: child i is created i microseconds after its parent."""
    return now + timedelta(microseconds=index)


def _choice(provider: str, model: str | None) -> dict[str, str]:
    """The provider and model fields of a job's params (without a model, the params' default)."""
    return {"provider": provider} | ({"model": model} if model else {})


def _seed(seed: int | None) -> int:
    return seed if seed is not None else secrets.randbelow(MAX_SEED + 1)


def resolve_params(
    body: ImageOptions, prompt: str, model: str, seed: int | None = None
) -> ImageParams:
    """Explicit parameters: size from the aspect ratio, a seed chosen when none was given."""
    width, height = resolve_size(body)
    return ImageParams(
        prompt=prompt,
        negative_prompt=body.negative_prompt,
        num_images=body.num_images,
        width=width,
        height=height,
        seed=_seed(seed if seed is not None else body.seed),
        model=model,
        provider=body.provider,
    )


async def submit_image_job(
    body: CreateImageJob, user: Principal, writer: JobWriter, topics: Topics, model: str
) -> Accepted:
    """An image job; with `then`, a chain whose first step is the image job."""
    submission = Submission(user, writer, topics, webhook=body.webhook())
    params = resolve_params(body, body.prompt, model)
    if body.then:
        return await submission.chain(JobType.IMAGE, params, body.then, body.priority)
    return await submission.one(JobType.IMAGE, params, body.priority)


async def submit_upscale_job(
    body: CreateUpscaleJob,
    user: Principal,
    writer: JobWriter,
    store: JobStore,
    topics: Topics,
    limits: JobInputLimits = JobInputLimits(),
    model: str | None = None,
) -> Accepted:
    """An upscale job; with `then`, a chain whose first step is the upscale job. `model`: the
    chosen one (None: the provider's own default, for callers that checked nothing)."""
    submission = Submission(user, writer, topics, webhook=body.webhook())
    source = await resolve_upscale_input(body, user, store, limits)
    params = UpscaleParams.model_validate(
        {"input": source, "scale": body.scale, "format": body.format}
        | _choice(body.provider, model)
    )
    if body.then:
        return await submission.chain(JobType.UPSCALE, params, body.then, body.priority)
    return await submission.one(JobType.UPSCALE, params, body.priority)


async def submit_video_job(
    body: CreateVideoJob,
    user: Principal,
    writer: JobWriter,
    store: JobStore,
    topics: Topics,
    limits: JobInputLimits = JobInputLimits(),
    model: str | None = None,
) -> Accepted:
    """A video job; `model` as for an upscale job."""
    width, height = VIDEO_SIZES[body.resolution][body.aspect_ratio]
    inputs = await resolve_video_inputs(body.images, user, store, limits)
    params = VideoParams.model_validate(
        {
            "prompt": body.prompt,
            "negative_prompt": body.negative_prompt,
            "inputs": inputs,
            "duration_s": body.duration_s,
            "fps": body.fps,
            "width": width,
            "height": height,
            "seed": _seed(body.seed),
        }
        | _choice(body.provider, model)
    )
    return await Submission(user, writer, topics, webhook=body.webhook()).one(
        JobType.VIDEO, params, body.priority
    )


async def submit_batch_job(
    body: CreateBatchJob, user: Principal, writer: JobWriter, topics: Topics, model: str
) -> Accepted:
    """The batch and its children in one transaction: all of them are accepted, or none."""
    submission = Submission(user, writer, topics, webhook=body.webhook())
    base_seed = _seed(body.seed)
    children = [
        resolve_params(body, prompt, model, (base_seed + index) % (MAX_SEED + 1))
        for index, prompt in enumerate(body.prompts)
    ]
    batch_id = uuid.uuid4()
    parent = submission.write(
        JobType.BATCH,
        BatchParams(prompts=tuple(body.prompts), template=children[0]),
        body.priority,
        job_id=batch_id,
    )
    writes = [
        submission.write(
            JobType.IMAGE,
            params,
            body.priority,
            parent_id=batch_id,
            created_at=_after(submission.now, index + 1),
        )
        for index, params in enumerate(children)
    ]
    await writer.create_jobs([parent, *writes])
    return Accepted(batch_id, submission.now, JobType.BATCH, [w.job.job_id for w in writes])
