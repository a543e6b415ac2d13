"""The retry use case against real SQLite and PostgreSQL databases (the `store` fixture runs
both): a failed job runs again as a new series and a new run; a retried child reopens its batch."""

from __future__ import annotations

import uuid

import pytest

from darkroom.contracts.api import CreateBatchJob
from darkroom.contracts.events import JobEvent
from darkroom.contracts.topics import Topics
from darkroom.gateway.projector import reactor
from darkroom.gateway.retry import Retried, retry_job
from darkroom.gateway.submit import submit_batch_job
from darkroom.jobs.records import Change
from darkroom.jobs.transitions import update_for
from darkroom.runtime.auth import Principal
from darkroom.runtime.db import JobStore
from tests.factories import job_requeued
from tests.integration.helpers import completed, failed, new_job, random_user, started

pytestmark = pytest.mark.integration
TOPICS = Topics.with_suffix("retry")


async def _apply(store: JobStore, *events: JobEvent) -> int:
    return await store.apply_events([Change(e, update_for(e)) for e in events], reactor(TOPICS))


def _in(batch: uuid.UUID, *events: JobEvent) -> list[JobEvent]:
    return [e.model_copy(update={"parent_id": batch}) for e in events]


async def _drain_outbox(store: JobStore) -> None:
    while rows := await store.outbox.fetch(1000):
        await store.outbox.delete([r.id for r in rows])


async def test_a_failed_job_retried_is_queued_again_once_and_can_then_complete(
    store: JobStore,
) -> None:
    user = random_user()
    plan = new_job(user)
    job_id = plan.job.job_id
    await store.create_jobs([plan])
    await _apply(store, started(job_id, user, 2), failed(job_id, user, 3))
    await _drain_outbox(store)

    retried = await retry_job(store, job_id, user, TOPICS)
    again = await retry_job(store, job_id, user, TOPICS)  # a second click: nothing more

    assert retried is not None and (retried.before.status, retried.runs) == ("failed", 1)
    assert again is not None and (again.before.status, again.runs) == ("queued", 0)
    requeued = await store.get_job(job_id)
    assert requeued is not None
    assert (requeued.status, requeued.series_start, requeued.last_seq) == ("queued", 2, 4)
    assert requeued.error is None and requeued.finished_at is None
    assert requeued.run_id not in (None, plan.job.run_id)
    sent = await store.outbox.fetch(10)
    assert [m.topic for m in sent] == [TOPICS.events, TOPICS.image.requested]
    await _apply(store, failed(job_id, user, 3))  # the old outcome again: a duplicate
    run = requeued.run_id
    await _apply(store, started(job_id, user, 5, 2, run=run), completed(job_id, user, 6, 2, run))
    done = await store.get_job(job_id)
    assert done is not None and (done.status, done.attempts) == ("completed", 2)
    assert await retry_job(store, job_id, user, TOPICS) == Retried(done, 0)  # left alone
    assert [e.type for e in await store.events_for(job_id)][-4:] == [
        "job.failed",
        "job.requeued",
        "job.started",
        "job.completed",
    ]


async def test_requeued_does_not_reopen_a_completed_job(store: JobStore) -> None:
    user = random_user()
    plan = new_job(user)
    job_id = plan.job.job_id
    await store.create_jobs([plan])
    await _apply(store, started(job_id, user, 2), completed(job_id, user, 3))
    done = await store.get_job(job_id)

    assert await _apply(store, job_requeued(job_id=job_id, user_id=user, seq=4, attempt=2)) == 0

    assert await store.get_job(job_id) == done


async def test_a_retried_child_reopens_its_batch_which_then_ends_with_its_real_outcome(
    store: JobStore,
) -> None:
    user = random_user()
    body = CreateBatchJob(prompts=["a", "b"], width=64, height=64)
    accepted = await submit_batch_job(
        body, Principal(user_id=user, scope="api"), store, TOPICS, model="procedural"
    )
    batch, (a, b) = accepted.job_id, accepted.children
    ends = _in(batch, started(a, user, 2), completed(a, user, 3), started(b, user, 2))
    await _apply(store, *ends, *_in(batch, failed(b, user, 3)))
    assert (await store.get_job(batch)).status == "completed_with_errors"  # type: ignore[union-attr]

    retried = await retry_job(store, b, user, TOPICS)

    assert retried is not None and (retried.before.job_id, retried.runs) == (b, 1)
    reopened = await store.get_job(batch)
    assert reopened is not None and reopened.status == "queued"
    assert reopened.message == f"queued again by {user}: 1 failed child"
    child = await store.get_job(b)
    assert child is not None and child.status == "queued"
    run = child.run_id
    await _apply(store, *_in(batch, started(b, user, 5, 2, run=run), completed(b, user, 6, 2, run)))
    done = await store.get_job(batch)
    assert done is not None and (done.status, done.message) == (
        "completed",
        "2/2 done: 2 completed",
    )
    assert len(done.result["assets"]) == 2  # type: ignore[index]
