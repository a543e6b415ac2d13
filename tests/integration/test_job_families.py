"""Batch and chain parents moved by their children's events, in the projector's transaction,
against real SQLite and PostgreSQL databases (the `store` fixture runs both)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from darkroom.contracts.api import CreateBatchJob, CreateImageJob
from darkroom.contracts.events import JobEvent
from darkroom.contracts.topics import Topics
from darkroom.gateway.projector import reactor
from darkroom.gateway.submit import submit_batch_job, submit_image_job
from darkroom.jobs.records import Change
from darkroom.jobs.transitions import update_for
from darkroom.runtime.auth import Principal
from darkroom.runtime.db import JobStore
from tests.integration.helpers import completed, failed, random_user, started

pytestmark = pytest.mark.integration
TOPICS = Topics.with_suffix("families")


def with_parent(event: JobEvent, parent_id: uuid.UUID) -> Any:
    return event.model_copy(update={"parent_id": parent_id})


async def apply(store: JobStore, *events: JobEvent) -> int:
    return await store.apply_events([Change(e, update_for(e)) for e in events], reactor(TOPICS))


async def test_a_batch_ends_once_when_its_last_child_ends_however_often_events_repeat(
    store: JobStore,
) -> None:
    user = random_user()
    body = CreateBatchJob(prompts=["a", "b", "c"], width=64, height=64)
    accepted = await submit_batch_job(
        body, Principal(user_id=user, scope="api"), store, TOPICS, model="procedural"
    )
    batch, (a, b, c) = accepted.job_id, accepted.children

    await apply(store, with_parent(started(a, user, 2), batch))
    assert (await store.get_job(batch)).status == "running"  # type: ignore[union-attr]

    endings = [
        with_parent(completed(a, user, 3), batch),
        with_parent(failed(b, user, 2), batch),
        with_parent(completed(c, user, 2), batch),
    ]
    await apply(store, *endings)
    await apply(store, *endings)  # redelivered: nothing new, the parent does not move again

    parent = await store.get_job(batch)
    assert parent is not None and parent.status == "completed_with_errors"
    history = [e.type for e in await store.events_for(batch)]
    assert history.count("job.completed_with_errors") == 1
    assert history[:2] == ["job.queued", "job.started"]
    assert len(parent.result["assets"]) == 2  # type: ignore[index]
    assert parent.message == "3/3 done: 2 completed, 1 failed"


async def test_a_chain_creates_its_next_step_once_with_the_previous_output_as_input(
    store: JobStore,
) -> None:
    user = random_user()
    body = CreateImageJob(prompt="kite", width=64, height=64, then=[{"type": "variants"}])
    accepted = await submit_image_job(
        body, Principal(user_id=user, scope="api"), store, TOPICS, model="procedural"
    )
    chain, [first] = accepted.job_id, accepted.children

    done = with_parent(completed(first, user, 2), chain)
    await apply(store, done)
    await apply(store, done)

    children = await store.children_of(chain)
    assert [c.type for c in children] == ["image", "variants"]
    step = children[1]
    assert step.parent_id == chain and step.status == "queued"
    assert step.params["input"]["key"] == f"jobs/{first}/0.png"
    requests = [
        m for m in await store.outbox.fetch(100_000) if m.topic == TOPICS.variants.requested
    ]
    assert [m.key for m in requests].count(str(step.job_id)) == 1

    await apply(store, with_parent(completed(step.job_id, user, 2), chain))
    parent = await store.get_job(chain)
    assert parent is not None and parent.status == "completed"
    assert parent.result["assets"][0]["key"] == f"jobs/{step.job_id}/0.png"  # type: ignore[index]
