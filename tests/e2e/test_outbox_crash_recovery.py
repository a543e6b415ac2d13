"""The transactional outbox: an accepted job survives a crash before publishing, and duplicates are harmless."""

import signal
import sqlite3
import uuid
from collections.abc import Sequence
from pathlib import Path

import httpx
import pytest

from darkroom.gateway.relay import OutboxRelay
from darkroom.runtime.db import Database, JobStore, OutboxStore, open_database
from darkroom.runtime.kafka import make_producer
from darkroom.runtime.settings import DatabaseSettings, KafkaSettings
from tests.e2e.client import follow, submit, wait_for_status
from tests.fixtures.procs import Stack
from tests.fixtures.tokens import auth

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(180)]

WITHOUT_RELAY = ("projector", "image-worker", "notifier", "gateway")


def outbox_rows(db_path: Path) -> int:
    with sqlite3.connect(db_path) as conn:
        return int(conn.execute("SELECT count(*) FROM outbox").fetchone()[0])


@pytest.fixture
def crash_stack(kafka_bootstrap: str, tmp_path: Path, topic_suffix: str) -> Stack:
    stack = Stack.configure(tmp_path, kafka_bootstrap, suffix=topic_suffix)
    stack.migrate()
    yield stack
    stack.stop_all()


async def test_job_accepted_then_gateway_killed_before_publishing_runs_after_restart(
    crash_stack: Stack,
) -> None:
    crash_stack.start(*WITHOUT_RELAY)
    user = f"u-{uuid.uuid4().hex[:8]}"
    async with httpx.AsyncClient(timeout=30) as http:
        job = await submit(http, crash_stack.gateway_url, user, width=64, height=64)
        crash_stack.stop("gateway", signal.SIGKILL)  # committed, never published
        assert outbox_rows(crash_stack.workdir / "darkroom.db") == 2
        crash_stack.start("relay", "gateway")
        events = await follow(http, job["events_url"], auth(user))
        assert [e.event for e in events][-1] == "job.completed"
        await wait_for_status(http, job["status_url"], user, "completed")
    assert outbox_rows(crash_stack.workdir / "darkroom.db") == 0


class NeverForgets(OutboxStore):
    async def delete(self, ids: Sequence[int]) -> None:
        return None


class KeepsRows(JobStore):
    """A store whose relay 'crashes' after publishing: rows are never marked sent."""

    def __init__(self, db: Database) -> None:
        super().__init__(db)
        self.outbox = NeverForgets(db)


async def test_messages_published_twice_by_the_relay_give_one_history_and_one_terminal_state(
    crash_stack: Stack,
) -> None:
    crash_stack.start(*WITHOUT_RELAY)
    user = f"u-{uuid.uuid4().hex[:8]}"
    env = crash_stack.env
    db = open_database(DatabaseSettings(database_url=env["DATABASE_URL"]))
    producer = make_producer(
        KafkaSettings(kafka_bootstrap_servers=env["KAFKA_BOOTSTRAP_SERVERS"]), "test"
    )
    await producer.start()
    try:
        async with httpx.AsyncClient(timeout=30) as http:
            job = await submit(http, crash_stack.gateway_url, user, width=64, height=64)
            topics = KafkaSettings(kafka_topic_suffix=env["KAFKA_TOPIC_SUFFIX"]).topics
            assert (
                await OutboxRelay(KeepsRows(db), producer, topics.events, 100).publish_round() == 2
            )
            crash_stack.start("relay")  # publishes the same two messages again
            await wait_for_status(http, job["status_url"], user, "completed")
            history = (await http.get(f"{job['status_url']}/events", headers=auth(user))).json()[
                "events"
            ]
    finally:
        await producer.stop()
        await db.dispose()
    seqs = [e["seq"] for e in history]
    assert seqs == sorted(set(seqs)), seqs
    assert [e["type"] for e in history].count("job.completed") == 1
    assert not any(e["type"] == "job.failed" for e in history)
