"""JobStore against real SQLite and PostgreSQL databases (the `store` fixture runs both)."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from darkroom.contracts.envelope import utcnow
from darkroom.contracts.events import encode_event
from darkroom.contracts.topics import Topics
from darkroom.gateway.projector import job_changes
from darkroom.gateway.retry import retry_job
from darkroom.runtime.db import JobRecord, JobStore
from darkroom.runtime.db.cursor import Cursor
from tests.factories import job_requeued
from tests.integration.helpers import (
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
    job, events, messages = new_job(user, **kwargs)  # type: ignore[arg-type]
    await store.create_job(job, events, messages)
    record = await store.get_job(job.job_id)
    assert record is not None
    return record


async def _apply(store: JobStore, *events: object) -> int:
    return await store.apply_events([(e, job_changes(e)) for e in events])  # type: ignore[arg-type]


async def _drain_outbox(store: JobStore) -> None:
    while rows := await store.fetch_outbox(1000):
        await store.delete_outbox([r.id for r in rows])


async def test_create_job_stores_the_row_the_queued_event_and_the_outbox_in_order(
    store: JobStore,
) -> None:
    await _drain_outbox(store)
    user, at = random_user(), utcnow().replace(microsecond=123000)
    job, events, messages = new_job(user, created_at=at)
    await store.create_job(job, events, messages)

    record = await store.get_job(job.job_id)
    assert record is not None
    assert (record.user_id, record.type, record.status, record.last_seq) == (
        user,
        "image",
        "queued",
        1,
    )
    assert (record.progress, record.attempts, record.started_at) == (0, 0, None)
    assert record.created_at == at and record.params == job.params
    assert await store.events_for(job.job_id) == events
    rows = await store.fetch_outbox(10)
    assert [(r.topic, r.key, r.payload, r.headers) for r in rows] == [
        (m.topic, m.key, m.payload, m.headers) for m in messages
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
    # Applied out of order: the history is still read back by seq.
    await _apply(store, progress(job_id, user, 4, 50), started(job_id, user, 2))
    await _apply(store, progress(job_id, user, 3, 10))

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
    assert await _apply(store, queued(job_id, user)) == 0  # the one create_job stored
    assert await store.get_job(job_id) == before
    assert [e.seq for e in await store.events_for(job_id)] == [1, 2]


async def test_an_older_event_is_recorded_in_history_but_does_not_change_the_row(
    store: JobStore,
) -> None:
    user = random_user()
    job_id = (await _created(store, user)).job_id
    await _apply(store, started(job_id, user, 2), progress(job_id, user, 4, 80))
    before = await store.get_job(job_id)

    assert await _apply(store, progress(job_id, user, 3, 20)) == 1
    after = await store.get_job(job_id)
    assert after == before
    assert after is not None and (after.progress, after.last_seq) == (80, 4)
    assert [e.seq for e in await store.events_for(job_id)] == [1, 2, 3, 4]


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


async def test_after_completed_later_events_do_not_change_the_status(store: JobStore) -> None:
    user = random_user()
    job_id = (await _created(store, user)).job_id
    await _apply(store, started(job_id, user, 2), completed(job_id, user, 3))
    done = await store.get_job(job_id)
    assert done is not None and (done.status, done.progress) == ("completed", 100)
    assert done.finished_at is not None and done.result is not None

    fresh = await _apply(store, progress(job_id, user, 4, 10), failed(job_id, user, 5))
    assert fresh == 2  # recorded in the history...
    assert await store.get_job(job_id) == done  # ...but the terminal row is set once
    assert [e.seq for e in await store.events_for(job_id)] == [1, 2, 3, 4, 5]


async def test_fetch_outbox_returns_the_oldest_first_and_delete_outbox_forgets_them(
    store: JobStore,
) -> None:
    await _drain_outbox(store)
    user = random_user()
    first, events, messages = new_job(user)
    await store.create_job(first, events, messages)
    second, events2, messages2 = new_job(user)
    await store.create_job(second, events2, messages2)

    oldest = await store.fetch_outbox(3)
    assert [r.key for r in oldest] == [str(first.job_id)] * 2 + [str(second.job_id)]
    assert oldest[0].payload == encode_event(events[0])
    await store.delete_outbox([r.id for r in oldest])
    rest = await store.fetch_outbox(10)
    assert [(r.key, r.topic) for r in rest] == [(str(second.job_id), "requests")]
    await store.delete_outbox([r.id for r in rest])
    assert await store.fetch_outbox(10) == [] and await store.count_outbox() == 0


async def test_a_batch_mixing_jobs_repeats_and_out_of_order_events_ends_as_one_by_one_would(
    store: JobStore,
) -> None:
    user = random_user()
    a, b = (await _created(store, user)).job_id, (await _created(store, user)).job_id
    first_start = started(a, user, 2)
    batch = [
        progress(a, user, 3, 40),
        first_start,
        progress(b, user, 3, 70),
        started(b, user, 2),
        first_start,
        completed(a, user, 4),
        progress(a, user, 5, 99),
        progress(b, user, 3, 70),
    ]
    assert await _apply(store, *batch) == 6  # two repeats of the same event ids are dropped
    job_a, job_b = await store.get_job(a), await store.get_job(b)
    assert job_a is not None and (job_a.status, job_a.progress, job_a.last_seq) == (
        "completed",
        100,
        4,
    )
    assert job_a.started_at == first_start.occurred_at
    assert job_b is not None and (job_b.status, job_b.progress, job_b.last_seq) == (
        "running",
        70,
        3,
    )
    assert [e.seq for e in await store.events_for(a)] == [1, 2, 3, 4, 5]


async def test_a_failed_job_retried_is_queued_again_once_and_can_then_complete(
    store: JobStore,
) -> None:
    user, topics = random_user(), Topics.with_suffix("retry")
    job_id = (await _created(store, user)).job_id
    await _apply(store, started(job_id, user, 2), failed(job_id, user, 3))
    await _drain_outbox(store)

    before = await retry_job(store, job_id, user, topics)
    again = await retry_job(store, job_id, user, topics)  # a second click: nothing more

    assert before is not None and before.status == "failed"
    assert again is not None and again.status == "queued"
    requeued = await store.get_job(job_id)
    assert requeued is not None
    assert (requeued.status, requeued.series_start, requeued.last_seq) == ("queued", 2, 4)
    assert requeued.error is None and requeued.finished_at is None
    sent = await store.fetch_outbox(10)
    assert [m.topic for m in sent] == [topics.events, topics.image.requested]
    await _apply(store, failed(job_id, user, 3))  # the old outcome again: a duplicate
    await _apply(store, started(job_id, user, 5, attempt=2), completed(job_id, user, 6, attempt=2))
    done = await store.get_job(job_id)
    assert done is not None and (done.status, done.attempts) == ("completed", 2)
    assert await retry_job(store, job_id, user, topics) == done  # completed: left alone
    assert [e.type for e in await store.events_for(job_id)][-4:] == [
        "job.failed",
        "job.requeued",
        "job.started",
        "job.completed",
    ]


async def test_requeued_does_not_reopen_a_completed_job(store: JobStore) -> None:
    user = random_user()
    job_id = (await _created(store, user)).job_id
    await _apply(store, started(job_id, user, 2), completed(job_id, user, 3))
    done = await store.get_job(job_id)

    await _apply(store, job_requeued(job_id=job_id, user_id=user, seq=4, attempt=2))

    assert await store.get_job(job_id) == done
