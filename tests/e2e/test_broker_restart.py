"""The embedded broker restarted with its memory storage (everything it held is lost) while the
database kept the jobs: no job is lost or hangs, none ends twice."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.client import follow, submit, wait_for_status
from tests.fixtures.kafka import TansuProcess
from tests.fixtures.procs import SERVICES, Stack
from tests.fixtures.tokens import auth

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.timeout(180),
    pytest.mark.skipif(
        bool(os.environ.get("KAFKA_BOOTSTRAP_SERVERS")),
        reason="restarts a broker of its own; an external broker cannot be restarted here",
    ),
]


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[TansuProcess]:
    tansu = TansuProcess(tmp_path / "tansu.log")
    tansu.start()
    yield tansu
    tansu.stop()


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
    suffix = f"br-{uuid.uuid4().hex[:8]}"
    stack = Stack.configure(
        tmp_path,
        broker.bootstrap,
        suffix=suffix,
        SWEEPER_INTERVAL_S="0.5",
        SWEEPER_QUEUED_AFTER_S="3",
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
