"""EventHistory against real SQLite and PostgreSQL (the `database` fixture runs both): accepted
events only, in recorded order; and the notifier's streams on it never show a refused event."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncGenerator, Sequence
from contextlib import aclosing
from typing import Any

import pytest
from sqlalchemy import insert, select
from sse_starlette import ServerSentEvent

from darkroom.contracts.envelope import utcnow
from darkroom.contracts.events import JobEvent, encode_event, parse_event
from darkroom.notifier.hub import Hub
from darkroom.notifier.streams import family_stream, job_stream, user_stream
from darkroom.runtime.db import Database
from darkroom.runtime.db.history import EventHistory, RecordedEvent, Verdict
from darkroom.runtime.db.tables import job_events, jobs
from tests.integration.helpers import completed, progress, queued, random_user, started

pytestmark = pytest.mark.integration


async def add_job(
    db: Database, user: str, job_type: str = "image", parent_id: uuid.UUID | None = None
) -> uuid.UUID:
    job_id, now = uuid.uuid4(), utcnow()
    row: dict[str, Any] = {
        "job_id": str(job_id),
        "user_id": user,
        "type": job_type,
        "status": "queued",
        "progress": 0,
        "attempts": 0,
        "last_seq": 1,
        "params": {},
        "created_at": now,
        "updated_at": now,
        "parent_id": str(parent_id) if parent_id else None,
    }
    async with db.write() as conn:
        await conn.execute(insert(jobs), [row])
    return job_id


async def record(db: Database, *events: JobEvent, accepted: bool = True) -> list[int]:
    """Record events as the projector does, one row each, in order; returns their ids."""
    rows = [
        {
            "event_id": str(e.event_id),
            "job_id": str(e.job_id),
            "seq": e.seq,
            "type": e.type,
            "occurred_at": e.occurred_at,
            "payload": encode_event(e).decode(),
            "accepted": accepted,
        }
        for e in events
    ]
    async with db.write() as conn:
        await conn.execute(insert(job_events), rows)
        found = await conn.execute(
            select(job_events.c.event_id, job_events.c.id).where(
                job_events.c.event_id.in_([r["event_id"] for r in rows])
            )
        )
        ids = {event_id: id_ for event_id, id_ in found}
    return [ids[r["event_id"]] for r in rows]


def child(event: JobEvent, parent_id: uuid.UUID) -> JobEvent:
    return event.model_copy(update={"parent_id": parent_id})


def events_of(recorded: Sequence[RecordedEvent]) -> list[JobEvent]:
    return [r.event for r in recorded]


@pytest.fixture
def history(database: Database) -> EventHistory:
    return EventHistory(database)


async def test_verdicts_tell_accepted_refused_and_unrecorded_events_apart(
    database: Database, history: EventHistory
) -> None:
    user = random_user()
    job = await add_job(database, user)
    good, stale, unseen = queued(job, user), progress(job, user, 2, 10), started(job, user, 3)
    [good_id] = await record(database, good)
    [stale_id] = await record(database, stale, accepted=False)

    verdicts = await history.verdicts([good.event_id, stale.event_id, unseen.event_id])

    assert verdicts == {
        good.event_id: Verdict(good_id, accepted=True),
        stale.event_id: Verdict(stale_id, accepted=False),
    }
    assert await history.verdicts([]) == {}


async def test_a_jobs_accepted_events_after_a_seq_come_in_seq_order(
    database: Database, history: EventHistory
) -> None:
    user = random_user()
    job, other = await add_job(database, user), await add_job(database, user)
    events = [queued(job, user), started(job, user, 2), progress(job, user, 3, 50)]
    await record(database, events[0], events[2], events[1])  # recorded out of seq order
    await record(database, progress(job, user, 4, 60, attempt=2), accepted=False)
    await record(database, queued(other, user))

    assert events_of(await history.job_events_after(job, 0)) == events
    assert events_of(await history.job_events_after(job, 2)) == events[2:]


async def test_a_familys_accepted_events_come_in_recorded_order_page_by_page(
    database: Database, history: EventHistory
) -> None:
    user = random_user()
    parent = await add_job(database, user, "batch")
    kids = [await add_job(database, user, "image", parent) for _ in range(2)]
    stranger = await add_job(database, user)
    order = [queued(parent, user), *(child(queued(k, user), parent) for k in kids)]
    order += [child(started(kids[1], user, 2), parent), progress(parent, user, 2, 50)]
    order += [child(completed(kids[0], user, 2), parent), completed(parent, user, 3)]
    ids = [(await record(database, e))[0] for e in order[:4]]
    await record(database, child(progress(kids[1], user, 3, 5, attempt=9), parent), accepted=False)
    await record(database, queued(stranger, user))
    ids += [(await record(database, e))[0] for e in order[4:]]

    first = await history.family_events_after(parent, 0, limit=4)
    rest = await history.family_events_after(parent, first[-1].id, limit=4)

    assert events_of(first + rest) == order
    assert [r.id for r in first + rest] == ids
    assert await history.family_events_after(parent, ids[-1], limit=4) == []


async def test_a_users_accepted_events_come_in_recorded_order_and_no_one_elses(
    database: Database, history: EventHistory
) -> None:
    user, other = random_user(), random_user()
    a, b, theirs = (
        await add_job(database, user),
        await add_job(database, user),
        await add_job(database, other),
    )
    ids = await record(database, queued(a, user), queued(b, user))
    await record(database, queued(theirs, other))
    await record(database, started(a, user, 2, attempt=3), accepted=False)
    ids += await record(database, started(b, user, 2))

    found = await history.user_events_after(user, 0, limit=10)
    after_first = await history.user_events_after(user, ids[0], limit=1)

    assert [r.id for r in found] == ids
    assert {r.event.user_id for r in found} == {user}
    assert [r.id for r in after_first] == ids[1:2]
    assert await history.newest_id() >= ids[-1]


async def collect(
    stream: AsyncGenerator[ServerSentEvent, None], count: int | None = None
) -> list[JobEvent]:
    """The events a stream sends: all of them until it ends, or the first `count`."""
    sent: list[JobEvent] = []
    async with asyncio.timeout(10), aclosing(stream):
        async for item in stream:
            sent.append(parse_event(item.data))
            if len(sent) == count:
                break
    return sent


async def test_a_refused_event_never_reaches_a_job_a_family_or_a_user_stream(
    database: Database, history: EventHistory
) -> None:
    user, hub = random_user(), Hub()
    parent = await add_job(database, user, "batch")
    kid = await add_job(database, user, "image", parent)
    accepted = [queued(parent, user), child(queued(kid, user), parent)]
    accepted += [child(started(kid, user, 2), parent)]
    refused = child(progress(kid, user, 3, 40, attempt=5), parent)  # a superseded attempt's
    finals = [child(completed(kid, user, 3), parent), completed(parent, user, 2)]
    ids = await record(database, *accepted)
    await record(database, refused, accepted=False)
    hub.publish(refused)  # in the hub's memory too, as the tail read it from Kafka
    await record(database, *finals)

    family = await collect(family_stream(parent, 0, hub, history))  # type: ignore[arg-type]
    job = await collect(job_stream(kid, 0, hub, history))  # type: ignore[arg-type]
    mine = await collect(user_stream(user, ids[0] - 1, hub, history), count=5)  # type: ignore[arg-type]

    assert family == mine == [*accepted, *finals]
    assert job == [e for e in family if e.job_id == kid]
