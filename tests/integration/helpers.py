"""Builders and waits shared by the integration tests (events, jobs, topic readers)."""

from __future__ import annotations

import asyncio
import time
import uuid
import warnings
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from starlette.exceptions import StarletteDeprecationWarning

from darkroom.contracts.assets import AssetDescriptor, JobResult
from darkroom.contracts.envelope import make_event_id, utcnow
from darkroom.contracts.errors import ErrorCode
from darkroom.contracts.events import (
    JobCompleted,
    JobFailed,
    JobProgress,
    JobQueued,
    JobStarted,
)
from darkroom.contracts.jobtypes import JobType, Priority
from darkroom.contracts.topics import Topics
from darkroom.contracts.webhooks import WebhookSubscription
from darkroom.gateway.deps import Services
from darkroom.gateway.main import create_app
from darkroom.gateway.settings import GatewaySettings
from darkroom.jobs.plans import submit as submit_plan
from darkroom.jobs.plans.submit import JobSpec
from darkroom.jobs.records import NewJobPlan
from darkroom.runtime.db.migrate import upgrade
from tests.factories import image_params
from tests.fixtures.db import run_in_thread

with warnings.catch_warnings():
    # Starlette 1.10 deprecates its TestClient on httpx in favour of httpx2, which the
    # constraints do not pin yet; the warning is about the test client, not our code.
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from starlette.testclient import TestClient

T = TypeVar("T")
DEADLINE_S = 20.0
TOPICS = Topics.with_suffix("helpers")  # the topics of `new_job`'s messages


def random_user() -> str:
    return f"user-{uuid.uuid4().hex[:10]}"


def _envelope(
    job_id: uuid.UUID,
    user_id: str,
    seq: int,
    attempt: int,
    kind: str,
    at: datetime | None,
    run: uuid.UUID | None = None,
) -> dict[str, Any]:
    """A worker's report of run `run` (None: a report that names no run, never fenced)."""
    return {
        "event_id": make_event_id(job_id, attempt, seq, kind, run),
        "job_id": job_id,
        "user_id": user_id,
        "job_type": JobType.IMAGE,
        "occurred_at": at or utcnow(),
        "attempt": attempt,
        "seq": seq,
        "request_id": run,
    }


def queued(job_id: uuid.UUID, user_id: str, at: datetime | None = None) -> JobQueued:
    return JobQueued(**_envelope(job_id, user_id, 1, 1, "job.queued", at), params=image_params())


def started(
    job_id: uuid.UUID,
    user_id: str,
    seq: int,
    attempt: int = 1,
    at: datetime | None = None,
    run: uuid.UUID | None = None,
) -> JobStarted:
    envelope = _envelope(job_id, user_id, seq, attempt, "job.started", at, run)
    return JobStarted(**envelope, worker_id="w1")


def progress(
    job_id: uuid.UUID,
    user_id: str,
    seq: int,
    percent: int,
    attempt: int = 1,
    run: uuid.UUID | None = None,
) -> JobProgress:
    return JobProgress(
        **_envelope(job_id, user_id, seq, attempt, "job.progress", None, run),
        percent=percent,
        message=f"{percent}%",
    )


def completed(
    job_id: uuid.UUID, user_id: str, seq: int, attempt: int = 1, run: uuid.UUID | None = None
) -> JobCompleted:
    asset = AssetDescriptor(
        key=f"jobs/{job_id}/0.png",
        content_type="image/png",
        width=512,
        height=512,
        bytes=10,
        sha256="0" * 64,
    )
    envelope = _envelope(job_id, user_id, seq, attempt, "job.completed", None, run)
    return JobCompleted(**envelope, result=JobResult(assets=[asset]))


def failed(
    job_id: uuid.UUID, user_id: str, seq: int, attempt: int = 1, run: uuid.UUID | None = None
) -> JobFailed:
    envelope = _envelope(job_id, user_id, seq, attempt, "job.failed", None, run)
    return JobFailed(**envelope, code=ErrorCode.INTERNAL, message="boom", retryable=False)


def new_job(
    user_id: str,
    created_at: datetime | None = None,
    job_id: uuid.UUID | None = None,
    *,
    messages: bool = True,
    topics: Topics = TOPICS,
    webhook: WebhookSubscription | None = None,
) -> NewJobPlan:
    """An image job as the gateway stores it: the row (its run: its first request), its
    `job.queued` and its two outbox messages (on `topics`); `messages=False`: none, as if they
    were lost."""
    spec = JobSpec(
        job_id=job_id or uuid.uuid4(),
        user_id=user_id,
        job_type=JobType.IMAGE,
        params=image_params(),
        priority=Priority.NORMAL,
        webhook=webhook,
    )
    plan = submit_plan.new_job(spec, topics, created_at or utcnow())
    return plan if messages else replace(plan, messages=())


def times(count: int, start: datetime | None = None) -> list[datetime]:
    """`count` distinct, increasing times a second apart."""
    start = start or utcnow() - timedelta(hours=1)
    return [start + timedelta(seconds=i) for i in range(count)]


async def wait_until(
    check: Callable[[], Awaitable[bool] | bool], what: str, timeout_s: float = DEADLINE_S
) -> None:
    """Poll `check` until it holds; fail naming `what` when the deadline passes."""
    deadline = time.monotonic() + timeout_s
    while True:
        result = check()
        if isinstance(result, Awaitable):
            result = await result
        if result:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")
        await asyncio.sleep(0.05)


async def read_topic(
    bootstrap: str, topic: str, expected: int, timeout_s: float = DEADLINE_S
) -> list[ConsumerRecord[bytes, bytes]]:
    """Every record of `topic` from the beginning, once `expected` have arrived (or the deadline)."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False
    )
    await consumer.start()
    try:
        ids = consumer.partitions_for_topic(topic) or set()
        partitions = [TopicPartition(topic, p) for p in sorted(ids)]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        records: list[ConsumerRecord[bytes, bytes]] = []
        deadline = time.monotonic() + timeout_s
        while len(records) < expected and time.monotonic() < deadline:
            batches = await consumer.getmany(timeout_ms=200)
            for batch in batches.values():
                records.extend(batch)
        return records
    finally:
        await consumer.stop()


@dataclass
class RunningGateway:
    """The gateway app in-process (lifespan running), with its settings and services."""

    client: TestClient
    settings: GatewaySettings

    @property
    def services(self) -> Services:
        return self.client.app.state.services  # type: ignore[attr-defined,no-any-return]

    def call(self, fn: Callable[..., Awaitable[T]], *args: Any) -> T:
        """Run a coroutine function on the app's own event loop (e.g. a store query)."""
        assert self.client.portal is not None
        return self.client.portal.call(fn, *args)


@contextmanager
def running_gateway(workdir: Path, kafka_bootstrap: str, suffix: str) -> Iterator[RunningGateway]:
    """A gateway on a fresh, migrated SQLite file; only /readyz talks to Kafka."""
    settings = GatewaySettings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=f"sqlite+aiosqlite:///{workdir / 'gateway.db'}",
        storage_local_root=workdir / "assets",
        public_base_url="http://gateway.test",
        notifier_public_url="http://notifier.test",
        kafka_bootstrap_servers=kafka_bootstrap,
        kafka_topic_suffix=suffix,
    )
    run_in_thread(upgrade(settings))
    with TestClient(create_app(settings)) as client:
        yield RunningGateway(client, settings)
