"""The sweeper and its lease against real SQLite and PostgreSQL databases; telling a request that
waits in Kafka from a lost one against the test broker."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import replace
from datetime import timedelta

import pytest

from darkroom.contracts.control import RunSuperseded
from darkroom.contracts.envelope import utcnow
from darkroom.contracts.requests import ImageJobRequested
from darkroom.contracts.topics import Topics
from darkroom.gateway.sweeper.backlog import BacklogUnknown, GroupTopics, RequestBacklog
from darkroom.gateway.sweeper.loop import Sweeper
from darkroom.gateway.sweeper.settings import SweeperSettings
from darkroom.jobs.records import Change, NewJobPlan
from darkroom.jobs.transitions import update_for
from darkroom.runtime.db import Database, JobRecord, JobStore
from darkroom.runtime.db.lease import acquire_lease, lease_holder
from darkroom.runtime.kafka import ensure_topics, make_producer
from darkroom.runtime.settings import KafkaSettings
from tests.integration.helpers import new_job, random_user, started

pytestmark = pytest.mark.integration

TOPICS = Topics()
AN_HOUR_AGO = timedelta(hours=1)
# The session's database holds other tests' jobs too: sweep them all, judge this test's.
SETTINGS = SweeperSettings(
    sweeper_queued_after_s=600, sweeper_stalled_after_s=600, sweeper_batch_size=100_000
)


class Backlog:
    """Requests waiting in Kafka, as given; or a broker that cannot be read (`unknown`)."""

    def __init__(self, waiting: set[uuid.UUID] | None = None, unknown: bool = False) -> None:
        self.waiting_ids, self.unknown = waiting or set(), unknown

    async def waiting(self, groups: list[GroupTopics]) -> set[uuid.UUID]:
        if self.unknown:
            raise BacklogUnknown("broker away")
        return self.waiting_ids


def sweeper(store: JobStore, backlog: object, topics: Topics = TOPICS) -> Sweeper:
    return Sweeper(store, topics, SETTINGS, backlog)  # type: ignore[arg-type]


async def quiet_job(
    store: JobStore, *, outbox: bool = False, running: bool = False, topics: Topics = TOPICS
) -> NewJobPlan:
    """A job quiet for an hour, queued or running; its messages are stored in the outbox only
    with `outbox` (else they are lost, or sent by the test)."""
    plan = new_job(random_user(), created_at=utcnow() - AN_HOUR_AGO, topics=topics)
    await store.create_jobs([plan if outbox else replace(plan, messages=())])
    if running:
        event = started(plan.job.job_id, plan.job.user_id, 2, at=utcnow() - AN_HOUR_AGO)
        await store.apply_events([Change(event, update_for(event))])
    return plan


async def record_of(store: JobStore, plan: NewJobPlan) -> JobRecord:
    record = await store.get_job(plan.job.job_id)
    assert record is not None
    return record


async def test_one_holder_at_a_time_and_another_takes_over_once_it_expires(
    database: Database,
) -> None:
    name = f"lease-{uuid.uuid4().hex[:6]}"
    short = timedelta(milliseconds=300)

    assert await acquire_lease(database, name, "a", short)
    assert not await acquire_lease(database, name, "b", short)
    assert await acquire_lease(database, name, "a", short)  # the holder renews
    assert await lease_holder(database, name) == "a"
    await asyncio.sleep(0.4)
    assert await acquire_lease(database, name, "b", short)
    assert not await acquire_lease(database, name, "a", short)


async def test_many_replicas_racing_for_a_free_lease_get_exactly_one_holder(
    database: Database,
) -> None:
    name = f"lease-{uuid.uuid4().hex[:6]}"
    results = await asyncio.gather(
        *(acquire_lease(database, name, f"r{n}", timedelta(seconds=5)) for n in range(8))
    )
    assert results.count(True) == 1


async def test_a_queued_job_whose_request_is_lost_is_queued_again_once_as_a_new_run(
    store: JobStore,
) -> None:
    plan = await quiet_job(store)  # stored with no outbox message: the request is "lost"

    assert await sweeper(store, Backlog()).sweep_once() >= 1
    await sweeper(store, Backlog()).sweep_once()  # it has news now: not swept again

    record = await record_of(store, plan)
    assert record.status == "queued" and record.last_seq == 2
    assert record.run_id == uuid.uuid5(plan.job.job_id, "sweep/2")
    assert [e.type for e in await store.events_for(plan.job.job_id)] == ["job.queued"] * 2
    rows = [r for r in await store.outbox.fetch(100_000) if r.key == str(plan.job.job_id)]
    assert [r.topic for r in rows] == [TOPICS.events, TOPICS.image.requested, TOPICS.control]
    request = ImageJobRequested.model_validate_json(rows[1].payload)
    assert (request.request_id, request.attempt, request.first_seq) == (record.run_id, 1, 3)
    stop = RunSuperseded.model_validate_json(rows[2].payload)
    assert (stop.superseded_request_id, stop.request_id) == (plan.job.run_id, record.run_id)
    await store.outbox.delete([r.id for r in rows])


async def test_a_running_job_with_no_news_gets_a_new_run_even_if_its_request_waits(
    store: JobStore,
) -> None:
    plan = await quiet_job(store, running=True)

    await sweeper(store, Backlog({plan.job.run_id})).sweep_once()  # type: ignore[arg-type]

    record = await record_of(store, plan)
    assert (record.status, record.last_seq) == ("queued", 3)
    assert record.run_id not in (None, plan.job.run_id)


async def test_a_queued_job_whose_request_still_waits_is_left_alone_however_long(
    store: JobStore,
) -> None:
    in_kafka = await quiet_job(store)
    in_outbox = await quiet_job(store, outbox=True)  # the relay has not sent it yet

    await sweeper(store, Backlog({in_kafka.job.run_id})).sweep_once()  # type: ignore[arg-type]

    assert (await record_of(store, in_kafka)).last_seq == 1
    assert (await record_of(store, in_outbox)).last_seq == 1


async def test_when_the_backlog_cannot_be_read_no_waiting_job_is_swept(store: JobStore) -> None:
    waiting, running = await quiet_job(store), await quiet_job(store, running=True)

    await sweeper(store, Backlog(unknown=True)).sweep_once()

    assert (await record_of(store, waiting)).last_seq == 1
    assert (await record_of(store, running)).status == "queued"  # running jobs still are


async def test_a_recent_job_is_left_alone(store: JobStore) -> None:
    plan = new_job(random_user(), messages=False)
    await store.create_jobs([plan])

    await sweeper(store, Backlog()).sweep_once()

    assert (await record_of(store, plan)).last_seq == 1


async def test_the_backlog_tells_a_request_waiting_in_kafka_from_a_lost_one(
    store: JobStore, kafka_bootstrap: str, topic_suffix: str
) -> None:
    kafka = KafkaSettings(_env_file=None, kafka_bootstrap_servers=kafka_bootstrap)  # type: ignore[call-arg]
    topics = Topics.with_suffix(topic_suffix)
    await ensure_topics(kafka, topics.all_topics())
    waiting, lost = await quiet_job(store, topics=topics), await quiet_job(store, topics=topics)
    [_, request] = waiting.messages
    producer = make_producer(kafka, "sweeper-test")
    await producer.start()
    try:  # as the relay would have sent it: no worker has taken it yet
        headers = [(k, v.encode()) for k, v in request.headers.items()]
        await producer.send_and_wait(
            request.topic, request.payload, request.key.encode(), headers=headers
        )
    finally:
        await producer.stop()

    await sweeper(store, RequestBacklog(kafka, timeout_s=15), topics).sweep_once()

    assert (await record_of(store, waiting)).last_seq == 1
    assert (await record_of(store, lost)).last_seq == 2
