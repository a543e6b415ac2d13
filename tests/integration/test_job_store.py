"""JobStore against real SQLite and PostgreSQL databases (the `store` fixture runs both)."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from darkroom.contracts.envelope import utcnow
from darkroom.contracts.events import JobEvent, encode_event
from darkroom.jobs.records import Change
from darkroom.jobs.transitions import update_for
from darkroom.runtime.db import JobRecord, JobStore
from darkroom.runtime.db.cursor import Cursor
from tests.integration.helpers import (
    TOPICS,
    completed,
    failed,
    new_job,
    progress,
    queued,
    random_user,
    started,
    times,
)

pytestmark = pytest.mark.integration


async def _created(store: JobStore, user: str, **kwargs: object) -> JobRecord:
    plan = new_job(user, **kwargs)  # type: ignore[arg-type]
    await store.create_jobs([plan])
    record = await store.get_job(plan.job.job_id)
    assert record is not None
    return record


async def _apply(store: JobStore, *events: JobEvent) -> int:
    return await store.apply_events([Change(e, update_for(e)) for e in events])


async def _drain_outbox(store: JobStore) -> None:
    while rows := await store.outbox.fetch(1000):
        await store.outbox.delete([r.id for r in rows])


async def test_create_jobs_stores_the_row_the_queued_event_and_the_outbox_in_order(
    store: JobStore,
) -> None:
    await _drain_outbox(store)
    user, at = random_user(), utcnow().replace(microsecond=123000)
    plan = new_job(user, created_at=at)
    await store.create_jobs([plan])

    record = await store.get_job(plan.job.job_id)
    assert record is not None
    assert (record.user_id, record.type, record.status, record.last_seq) == (
        user,
        "image",
        "queued",
        1,
    )
    assert (record.progress, record.attempts, record.started_at) == (0, 0, None)
    assert record.created_at == at and record.params == plan.job.params
    assert record.run_id == plan.job.run_id is not None
    assert await store.events_for(plan.job.job_id) == list(plan.events)
    rows = await store.outbox.fetch(10)
    assert [(r.topic, r.key, r.payload, r.headers) for r in rows] == [
        (m.topic, m.key, m.payload, m.headers) for m in plan.messages
    ]
    assert rows[0].id < rows[1].id


async def test_get_job_of_an_unknown_id_is_none(store: JobStore) -> None:
    assert await store.get_job(uuid.uuid4()) is None


async def test_list_jobs_pages_newest_first_to_the_end_without_duplicates_or_gaps(
    store: JobStore,
) -> None:
    user = random_user()
    ids = [(await _created(store, user, created_at=at)).job_id for at in times(7)]
    seen: list[uuid.UUID] = []
    cursor: Cursor | None = None
    pages = 0
    while True:
        records, cursor = await store.list_jobs(user, limit=3, cursor=cursor)
        seen += [r.job_id for r in records]
        pages += 1
        if cursor is None:
            break
    assert seen == list(reversed(ids))
    assert pages == 3


async def test_list_jobs_breaks_created_at_ties_by_job_id_across_pages(store: JobStore) -> None:
    user, at = random_user(), utcnow()
    ids = [(await _created(store, user, created_at=at)).job_id for _ in range(5)]
    first, cursor = await store.list_jobs(user, limit=2)
    second, cursor = await store.list_jobs(user, limit=2, cursor=cursor)
    third, cursor = await store.list_jobs(user, limit=2, cursor=cursor)
    seen = [r.job_id for r in first + second + third]
    assert seen == sorted(ids, key=str, reverse=True)
    assert cursor is None


async def test_list_jobs_filters_by_status_and_type(store: JobStore) -> None:
    user = random_user()
    a, b = (await _created(store, user)).job_id, (await _created(store, user)).job_id
    await _apply(store, started(a, user, 2))

    running, _ = await store.list_jobs(user, limit=10, status="running")
    queued_jobs, _ = await store.list_jobs(user, limit=10, status="queued")
    images, _ = await store.list_jobs(user, limit=10, job_type="image")
    videos, _ = await store.list_jobs(user, limit=10, job_type="video")
    assert [r.job_id for r in running] == [a]
    assert [r.job_id for r in queued_jobs] == [b]
    assert {r.job_id for r in images} == {a, b}
    assert videos == []


async def test_list_jobs_never_returns_another_users_jobs(store: JobStore) -> None:
    alice, bob = random_user(), random_user()
    await _created(store, alice)
    mine = await _created(store, bob)
    records, cursor = await store.list_jobs(bob, limit=10)
    assert [r.job_id for r in records] == [mine.job_id]
    assert cursor is None
    assert (await store.list_jobs(random_user(), limit=10)) == ([], None)


async def test_events_for_returns_seq_order_and_honours_after_seq(store: JobStore) -> None:
    user = random_user()
    job_id = (await _created(store, user)).job_id
    await _apply(store, started(job_id, user, 2), progress(job_id, user, 3, 10))
    await _apply(store, progress(job_id, user, 4, 50))

    assert [e.seq for e in await store.events_for(job_id)] == [1, 2, 3, 4]
    assert [e.seq for e in await store.events_for(job_id, after_seq=2)] == [3, 4]
    assert await store.events_for(job_id, after_seq=4) == []
    assert await store.events_for(uuid.uuid4()) == []


async def test_a_duplicate_event_changes_nothing_and_counts_zero(store: JobStore) -> None:
    user = random_user()
    job_id = (await _created(store, user)).job_id
    event = started(job_id, user, 2)
    assert await _apply(store, event) == 1
    before = await store.get_job(job_id)

    assert await _apply(store, event) == 0
    assert await _apply(store, queued(job_id, user)) == 0  # the one create_jobs stored
    assert await store.get_job(job_id) == before
    assert [e.seq for e in await store.events_for(job_id)] == [1, 2]


async def test_an_older_event_is_recorded_but_refused_and_never_shown(store: JobStore) -> None:
    user = random_user()
    job_id = (await _created(store, user)).job_id
    await _apply(store, started(job_id, user, 2), progress(job_id, user, 4, 80))
    before = await store.get_job(job_id)
    late = progress(job_id, user, 3, 20)

    assert await _apply(store, late) == 0
    after = await store.get_job(job_id)
    assert after == before
    assert after is not None and (after.progress, after.last_seq) == (80, 4)
    assert [e.seq for e in await store.events_for(job_id)] == [1, 2, 4]
    assert set(await store.history.verdicts([late.event_id])) == {late.event_id}


async def test_started_sets_running_attempts_and_started_at_and_a_retry_keeps_started_at(
    store: JobStore,
) -> None:
    user, first_start = random_user(), utcnow() - timedelta(minutes=5)
    job_id = (await _created(store, user)).job_id
    await _apply(store, started(job_id, user, 2, attempt=1, at=first_start))
    record = await store.get_job(job_id)
    assert record is not None
    assert (record.status, record.attempts, record.started_at) == ("running", 1, first_start)
    assert record.updated_at == first_start

    await _apply(store, started(job_id, user, 3, attempt=2, at=utcnow()))
    retried = await store.get_job(job_id)
    assert retried is not None
    assert (retried.status, retried.attempts, retried.last_seq) == ("running", 2, 3)
    assert retried.started_at == first_start


async def test_after_completed_later_events_are_refused_and_the_row_is_set_once(
    store: JobStore,
) -> None:
    user = random_user()
    job_id = (await _created(store, user)).job_id
    await _apply(store, started(job_id, user, 2), completed(job_id, user, 3))
    done = await store.get_job(job_id)
    assert done is not None and (done.status, done.progress) == ("completed", 100)
    assert done.finished_at is not None and done.result is not None
    assert done.message == "completed"

    later = [progress(job_id, user, 4, 10), failed(job_id, user, 5)]
    assert await _apply(store, *later) == 0  # recorded, refused...
    assert await store.get_job(job_id) == done  # ...and the terminal row is set once
    assert [e.seq for e in await store.events_for(job_id)] == [1, 2, 3]
    assert set(await store.history.verdicts([e.event_id for e in later])) == {
        e.event_id for e in later
    }


async def test_the_outbox_gives_the_oldest_first_and_forgets_what_is_deleted(
    store: JobStore,
) -> None:
    await _drain_outbox(store)
    first, second = new_job(random_user()), new_job(random_user())
    await store.create_jobs([first])
    await store.create_jobs([second])

    oldest = await store.outbox.fetch(3)
    assert [r.key for r in oldest] == [str(first.job.job_id)] * 2 + [str(second.job.job_id)]
    assert oldest[0].payload == encode_event(first.events[0])
    await store.outbox.delete([r.id for r in oldest])
    rest = await store.outbox.fetch(10)
    assert [(r.key, r.topic) for r in rest] == [(str(second.job.job_id), TOPICS.image.requested)]
    await store.outbox.delete([r.id for r in rest])
    assert await store.outbox.fetch(10) == [] and await store.outbox.count() == 0


def _mixed(a: uuid.UUID, b: uuid.UUID, user: str) -> list[JobEvent]:
    """Two jobs' events interleaved, with repeats and events older than ones before them."""
    a_started = started(a, user, 2)
    return [
        progress(a, user, 3, 40),
        a_started,
        progress(b, user, 3, 70),
        started(b, user, 2),
        a_started,
        completed(a, user, 4),
        progress(a, user, 5, 99),
        progress(b, user, 3, 70),
    ]


async def test_a_batch_mixing_jobs_repeats_and_out_of_order_events_ends_as_one_by_one_would(
    store: JobStore,
) -> None:
    user = random_user()
    a, b, c, d = [(await _created(store, user)).job_id for _ in range(4)]

    in_one_batch = await _apply(store, *_mixed(a, b, user))
    one_by_one = [await _apply(store, e) for e in _mixed(c, d, user)]

    assert in_one_batch == sum(one_by_one) == 3  # repeats dropped, older and later refused
    assert one_by_one == [1, 0, 1, 0, 0, 1, 0, 0]
    for batched, single in ((a, c), (b, d)):
        x, y = await store.get_job(batched), await store.get_job(single)
        assert x is not None and y is not None
        shown = ("status", "progress", "last_seq", "attempts", "message", "started_at")
        assert [getattr(x, f) for f in shown] == [getattr(y, f) for f in shown]
        assert [e.seq for e in await store.events_for(batched)] == [
            e.seq for e in await store.events_for(single)
        ]
    job_a = await store.get_job(a)
    assert job_a is not None and (job_a.status, job_a.progress, job_a.last_seq) == (
        "completed",
        100,
        4,
    )
    assert [e.seq for e in await store.events_for(a)] == [1, 3, 4]
