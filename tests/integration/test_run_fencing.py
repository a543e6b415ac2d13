"""Runs fenced by request id, against real SQLite and PostgreSQL databases (the `store` fixture
runs both): once a job has a new run, whatever its old run still reports is recorded, refused
and never shown."""

from __future__ import annotations

from datetime import timedelta

import pytest

from darkroom.contracts.envelope import utcnow
from darkroom.contracts.errors import ErrorCode
from darkroom.contracts.events import JobEvent
from darkroom.contracts.jobtypes import JobType
from darkroom.jobs.plans.sweep import SweepRules, plan_sweep
from darkroom.jobs.records import Change
from darkroom.jobs.transitions import update_for
from darkroom.runtime.db import JobStore
from darkroom.runtime.job_events import AttemptEvents, next_request_id
from tests.factories import image_request
from tests.integration.helpers import TOPICS, completed, new_job, progress, random_user, started

pytestmark = pytest.mark.integration
RULES = SweepRules(queued_after_s=60, stalled_after_s=60, max_attempts=5)


async def _apply(store: JobStore, *events: JobEvent) -> int:
    return await store.apply_events([Change(e, update_for(e)) for e in events])


async def test_a_late_report_of_a_run_the_sweeper_replaced_is_recorded_but_never_shown(
    store: JobStore,
) -> None:
    user = random_user()
    plan = new_job(user)
    job_id, old = plan.job.job_id, plan.job.run_id
    await store.create_jobs([plan])
    await _apply(store, started(job_id, user, 2, run=old), progress(job_id, user, 3, 40, run=old))
    later = utcnow() + timedelta(hours=1)  # the job has been quiet past its deadline
    await store.change_job(job_id, lambda r: plan_sweep(r, RULES, TOPICS, later, False))
    swept = await store.get_job(job_id)
    assert swept is not None and swept.status == "queued" and swept.run_id not in (None, old)
    new = swept.run_id
    late = completed(job_id, user, 5, run=old)

    assert await _apply(store, late, started(job_id, user, 5, 2, run=new)) == 1

    running = await store.get_job(job_id)
    assert running is not None and (running.status, running.attempts) == ("running", 2)
    history = [(e.type, e.request_id) for e in await store.events_for(job_id)]
    assert history[-2:] == [("job.queued", new), ("job.started", new)]
    assert set(await store.history.verdicts([late.event_id])) == {late.event_id}


async def test_job_retrying_hands_the_run_to_the_next_attempts_request(store: JobStore) -> None:
    plan = new_job(random_user())
    job_id = plan.job.job_id
    await store.create_jobs([plan])
    request = image_request(job_id=job_id, user_id=plan.job.user_id, request_id=plan.job.run_id)
    first = AttemptEvents(request, JobType.IMAGE)
    started_, retrying = first.started("w1"), first.retrying(ErrorCode.TIMEOUT, "slow", utcnow())
    following = request.model_copy(
        update={"request_id": next_request_id(request), "attempt": 2, "first_seq": first.next_seq}
    )
    second = AttemptEvents(following, JobType.IMAGE)
    stale_beat = first.progress(10, "still going")  # the first run did not stop in time

    assert await _apply(store, started_, retrying, stale_beat, second.started("w2")) == 3

    record = await store.get_job(job_id)
    assert record is not None
    assert (record.status, record.attempts, record.run_id) == ("running", 2, following.request_id)
    assert [e.type for e in await store.events_for(job_id)] == [
        "job.queued",
        "job.started",
        "job.retrying",
        "job.started",
    ]
