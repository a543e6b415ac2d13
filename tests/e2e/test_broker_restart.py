"""The embedded broker restarted with its memory storage (everything it held is lost) while the
database kept the jobs: no job is lost or hangs, none ends twice."""

from __future__ import annotations

import asyncio
import sqlite3
import time
import uuid
from collections.abc import Awaitable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiokafka.admin import AIOKafkaAdminClient
from httpx_sse import aconnect_sse

from darkroom.runtime.embedded.stack import patience
from tests.e2e.client import Received, data_events, follow, submit, wait_for_status
from tests.fixtures.kafka import TansuProcess, own_broker_only
from tests.fixtures.procs import SERVICES, Stack
from tests.fixtures.tokens import auth

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.timeout(180),
    own_broker_only,
]


async def wait_until_published(db: Path) -> None:
    """Until the relay has handed every outbox row to the broker (then only the broker has them)."""
    async with asyncio.timeout(20):
        while True:
            with sqlite3.connect(db) as conn:
                if conn.execute("SELECT count(*) FROM outbox").fetchone()[0] == 0:
                    return
            await asyncio.sleep(0.05)


async def test_after_the_broker_lost_everything_queued_jobs_complete_and_finished_ones_stay(
    broker: TansuProcess, tmp_path: Path
) -> None:
    """The whole stack restarted with an empty broker (`make run` after a crash): the gateway finds
    the broker's log is not the one the jobs were sent to and queues the waiting ones at once."""
    suffix = f"br-{uuid.uuid4().hex[:8]}"
    stack = Stack.configure(
        tmp_path,
        broker.bootstrap,
        suffix=suffix,
        SWEEPER_INTERVAL_S="0.5",
        SWEEPER_QUEUED_AFTER_S="600",  # the database knows the broker is new: no deadline needed
    )
    stack.migrate()
    stack.start(*SERVICES)
    owner = f"u-{uuid.uuid4().hex[:8]}"
    try:
        async with httpx.AsyncClient(timeout=60) as http:
            done = await submit(http, stack.gateway_url, owner, width=64, height=64)
            before = await wait_for_status(http, done["status_url"], owner, "completed")
            stack.stop("image-worker")  # these two wait in the broker, then are lost with it
            waiting = [
                await submit(http, stack.gateway_url, owner, width=64, height=64) for _ in range(2)
            ]
            await wait_until_published(tmp_path / "darkroom.db")

            # The broker dies with everything it held; `make run` (honcho) stops the stack with
            # it, and it is started again: same database, an empty broker.
            stack.stop_all()
            broker.stop(kill=True)
            broker.start()
            stack.start(*SERVICES)

            finals = [
                await wait_for_status(http, job["status_url"], owner, "completed", timeout_s=60)
                for job in waiting
            ]
            streams = [await follow(http, job["events_url"], auth(owner)) for job in waiting]
            after = (await http.get(done["status_url"], headers=auth(owner))).json()
    finally:
        stack.stop_all()

    assert after["status"] == "completed" and after["finished_at"] == before["finished_at"]
    assert [a["key"] for a in after["assets"]] == [a["key"] for a in before["assets"]]
    for final, events in zip(finals, streams, strict=True):
        kinds = [e.event for e in events]
        assert kinds[:2] == ["job.queued", "job.queued"]  # the second is the sweeper's
        assert kinds.count("job.completed") == 1 and kinds[-1] == "job.completed"
        assert final["assets"]


HTTP_SERVICES = ("gateway", "notifier", "projector", "image-worker")


async def readiness(http: httpx.AsyncClient, stack: Stack) -> dict[str, int]:
    """Each HTTP service's /readyz status code (0: no answer)."""
    codes = {}
    for name in HTTP_SERVICES:
        try:
            codes[name] = (
                await http.get(f"http://127.0.0.1:{stack.ports[name]}/readyz")
            ).status_code
        except httpx.HTTPError:
            codes[name] = 0
    return codes


async def until_readiness(
    http: httpx.AsyncClient, stack: Stack, ready: bool, timeout_s: float
) -> float:
    """Seconds until every service's /readyz says `ready` (200) or not (503)."""
    started = time.monotonic()
    async with asyncio.timeout(timeout_s):
        while True:
            codes = await readiness(http, stack)
            if all((code == 200) == ready for code in codes.values()):
                return time.monotonic() - started
            await asyncio.sleep(0.1)


async def partitions_of(bootstrap: str, topics: list[str]) -> dict[str, int]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        described = await admin.describe_topics(topics)
    finally:
        await admin.close()
    return {t["topic"]: len(t["partitions"]) for t in described}


@dataclass
class Restarted:
    """What a client saw around the restart."""

    jobs: list[dict[str, Any]]  # the one before, the six waiting in the lost log, three during
    finals: list[dict[str, Any]]
    histories: list[list[Received]]
    live: list[Received]  # a user stream opened before the restart
    ready_after_s: float
    recovered_after_s: float


async def restart_under_load(
    http: httpx.AsyncClient, stack: Stack, broker: TansuProcess, owner: str, db: Path
) -> Restarted:
    def one() -> Awaitable[dict[str, Any]]:
        return submit(http, stack.gateway_url, owner, width=64, height=64)

    first = await one()
    await wait_for_status(http, first["status_url"], owner, "completed")
    live: list[Received] = []
    stream = asyncio.create_task(collect(http, f"{stack.notifier_url}/v1/events", owner, live))
    backlog = [await one() for _ in range(6)]
    await wait_until_published(db)  # only the broker has them now

    broker.stop(kill=True)
    await until_readiness(http, stack, ready=False, timeout_s=patience(15))
    during = [await one() for _ in range(3)]
    broker.start()
    restarted = time.monotonic()
    ready_after = await until_readiness(http, stack, ready=True, timeout_s=patience(30))
    jobs = [first, *backlog, *during]
    finals = [
        await wait_for_status(http, j["status_url"], owner, "completed", timeout_s=patience(90))
        for j in jobs
    ]
    recovered_after = time.monotonic() - restarted
    histories = [await follow(http, j["events_url"], auth(owner)) for j in jobs]
    await asyncio.sleep(1)
    stream.cancel()
    return Restarted(jobs, finals, histories, live, ready_after, recovered_after)


async def collect(http: httpx.AsyncClient, url: str, owner: str, into: list[Received]) -> None:
    """Append a stream's events to `into` until cancelled (or the server ends it)."""
    async with aconnect_sse(http, "GET", url, headers=auth(owner)) as source:
        async for sse in data_events(source):
            into.append(Received(sse.event, sse.id, sse.json()))


async def test_a_broker_that_lost_its_log_under_running_processes_is_taken_in_within_seconds(
    broker: TansuProcess, tmp_path: Path
) -> None:
    """Every process keeps running while the broker is killed and started again empty (what a
    per-process supervisor does): the jobs waiting in the lost log, and the jobs submitted while
    it was down, all complete once each, long before the sweeper's deadline; readiness fails while
    the broker is away and comes back by itself; an open stream carries on."""
    suffix = f"lr-{uuid.uuid4().hex[:8]}"
    stack = Stack.configure(
        tmp_path,
        broker.bootstrap,
        suffix=suffix,
        KAFKA_PARTITIONS="3",
        KAFKA_WATCH_INTERVAL_S="1",
        SWEEPER_INTERVAL_S="1",
        SWEEPER_QUEUED_AFTER_S="600",  # the deadline never rescues a job here
        WORKER_CONCURRENCY="1",
        LOCAL_PROVIDER_STEPS="4",
        LOCAL_PROVIDER_STEP_DELAY_S="0.25",
    )
    stack.migrate()
    stack.start(*SERVICES)
    owner = f"u-{uuid.uuid4().hex[:8]}"
    try:
        async with httpx.AsyncClient(timeout=30) as http:
            seen = await restart_under_load(http, stack, broker, owner, tmp_path / "darkroom.db")
            partitions = await partitions_of(
                broker.bootstrap, [f"jobs.events.{suffix}", f"jobs.image.requested.{suffix}"]
            )
    finally:
        stack.stop_all()
    print(f"ready {seen.ready_after_s:.1f} s, all completed {seen.recovered_after_s:.1f} s after")

    assert seen.recovered_after_s < 60, seen.recovered_after_s  # the queued deadline is 600 s
    # A restarted Tansu sometimes refuses a produce ("AlreadyExists" in its log) and was seen,
    # then, to lose one acknowledged batch (docs/kafka.md): a gap in a history only then.
    tansu_conflicts = "AlreadyExists" in (tmp_path / "tansu.log").read_text(errors="replace")
    for final, events in zip(seen.finals, seen.histories, strict=True):
        kinds, seqs = [e.event for e in events], [e.data["seq"] for e in events]
        assert kinds.count("job.completed") == 1 and kinds[-1] == "job.completed", kinds
        assert seqs == sorted(set(seqs)) and seqs[0] == 1, kinds  # in order, none twice
        assert tansu_conflicts or seqs == list(range(1, len(seqs) + 1)), kinds
        assert final["assets"]
    live_completed = sorted(e.data["job_id"] for e in seen.live if e.event == "job.completed")
    assert live_completed == sorted(j["job_id"] for j in seen.jobs[1:])  # the open stream
    logs = {log.name: log.read_text(errors="replace") for log in tmp_path.glob("*.log")}  # noqa: ASYNC240
    for name, text in logs.items():  # a few commits of the old log's offsets, not thousands
        assert text.count("OffsetCommit failed") < 20, name
    for topic, count in partitions.items():  # recreated with KAFKA_PARTITIONS, or (Tansu made it
        said = f"topic {topic} came back with {count} partitions"  # first, on a client's ask) said
        assert count == 3 or any(said in text for text in logs.values()), partitions
