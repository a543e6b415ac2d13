"""Faults injected into real processes: every accepted job ends in exactly one terminal state."""

from __future__ import annotations

import asyncio
import signal
import uuid

import httpx
import pytest

from darkroom.runtime.db import JobStore, open_database
from darkroom.runtime.settings import DatabaseSettings, KafkaSettings
from tests.e2e.client import Received, follow, submit, wait_for_status
from tests.fixtures.tokens import auth
from tests.integration.helpers import new_job, read_topic

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(180)]


def user() -> str:
    return f"u-{uuid.uuid4().hex[:8]}"


def terminal(events: list[Received]) -> list[str]:
    return [e.event for e in events if e.event in ("job.completed", "job.failed")]


async def test_a_provider_failing_twice_then_succeeding_completes_on_the_third_attempt(
    make_stack,  # type: ignore[no-untyped-def]
) -> None:
    stack = make_stack(LOCAL_PROVIDER_FAIL_ATTEMPTS="2", JOB_RETRY_BASE_DELAY_S="0.2")
    owner = user()
    async with httpx.AsyncClient(timeout=30) as http:
        job = await submit(http, stack.gateway_url, owner, width=64, height=64)
        events = await follow(http, job["events_url"], auth(owner))
        final = await wait_for_status(http, job["status_url"], owner, "completed")

    kinds = [e.event for e in events]
    assert kinds.count("job.started") == 3
    retries = [e.data for e in events if e.event == "job.retrying"]
    assert [r["next_attempt"] for r in retries] == [2, 3]
    assert all(r["code"] == "provider_unavailable" for r in retries)
    assert terminal(events) == ["job.completed"]
    assert [int(e.id) for e in events] == list(range(1, len(events) + 1))  # one ordered history
    assert final["attempts"] == 3


async def test_a_provider_always_failing_fails_the_job_after_its_attempts_and_dead_letters_it(
    make_stack,  # type: ignore[no-untyped-def]
) -> None:
    stack = make_stack(
        LOCAL_PROVIDER_FAIL_ATTEMPTS="99", JOB_RETRY_BASE_DELAY_S="0.1", JOB_MAX_ATTEMPTS="3"
    )
    owner = user()
    async with httpx.AsyncClient(timeout=30) as http:
        job = await submit(http, stack.gateway_url, owner, width=64, height=64)
        events = await follow(http, job["events_url"], auth(owner))
        final = await wait_for_status(http, job["status_url"], owner, "failed")

    assert [e.event for e in events].count("job.started") == 3
    assert terminal(events) == ["job.failed"]
    assert events[-1].data["retryable"] is True
    assert final["error"]["code"] == "provider_unavailable"
    settings = KafkaSettings(
        kafka_bootstrap_servers=stack.env["KAFKA_BOOTSTRAP_SERVERS"],
        kafka_topic_suffix=stack.env["KAFKA_TOPIC_SUFFIX"],
    )
    [dead] = await read_topic(settings.kafka_bootstrap_servers, settings.topics.image.dlq, 1)
    headers = {k: v.decode() for k, v in dead.headers}
    assert headers["dlq-attempts"] == "3"
    assert headers["dlq-original-topic"] == settings.topics.image.requested
    assert dead.key == job["job_id"].encode()


async def test_a_worker_killed_mid_job_is_replaced_and_the_job_completes_on_the_same_stream(
    make_stack,  # type: ignore[no-untyped-def]
) -> None:
    stack = make_stack(LOCAL_PROVIDER_STEP_DELAY_S="0.5", LOCAL_PROVIDER_STEPS="6")
    owner = user()
    async with httpx.AsyncClient(timeout=60) as http:
        job = await submit(http, stack.gateway_url, owner, width=64, height=64)
        stream = asyncio.create_task(follow(http, job["events_url"], auth(owner), timeout_s=90))
        await wait_for_status(http, job["status_url"], owner, "running")
        stack.stop("image-worker", signal.SIGKILL)
        stack.start("image-worker")
        events = await stream
        await wait_for_status(http, job["status_url"], owner, "completed")

    assert terminal(events) == ["job.completed"]  # one terminal state, on the stream already open
    assert [e.event for e in events].count("job.started") >= 1
    assert len({e.id for e in events}) == len(events)  # no event twice


async def test_sigterm_during_a_job_lets_it_finish_before_the_worker_exits(
    make_stack,  # type: ignore[no-untyped-def]
) -> None:
    stack = make_stack(LOCAL_PROVIDER_STEP_DELAY_S="0.4", WORKER_DRAIN_TIMEOUT_S="30")
    owner = user()
    async with httpx.AsyncClient(timeout=60) as http:
        job = await submit(http, stack.gateway_url, owner, width=64, height=64)
        await wait_for_status(http, job["status_url"], owner, "running")
        code = stack.stop("image-worker", signal.SIGTERM)  # waits for the process to exit
        assert code == 0, stack.logs()  # drained, committed, left the group: a clean exit
        final = await wait_for_status(http, job["status_url"], owner, "completed", timeout_s=10)

    assert final["attempts"] == 1  # finished by the worker that was stopping, not re-run


async def test_cancelling_a_running_job_stops_it_at_its_next_step_and_ends_it_cancelled(
    make_stack,  # type: ignore[no-untyped-def]
) -> None:
    stack = make_stack(LOCAL_PROVIDER_STEP_DELAY_S="0.5", LOCAL_PROVIDER_STEPS="20")
    owner = user()
    async with httpx.AsyncClient(timeout=60) as http:
        job = await submit(http, stack.gateway_url, owner, width=64, height=64)
        stream = asyncio.create_task(follow(http, job["events_url"], auth(owner)))
        await wait_for_status(http, job["status_url"], owner, "running")
        response = await http.delete(job["status_url"], headers=auth(owner))
        assert response.status_code == 202, response.text
        assert response.json()["outcome"] == "stopping"
        events = await stream
        final = await wait_for_status(http, job["status_url"], owner, "cancelled", timeout_s=10)
        again = await http.delete(job["status_url"], headers=auth(owner))

    assert terminal(events) == [] and events[-1].event == "job.cancelled"  # its only ending
    assert events[-1].data["while_running"] is True
    assert len([e for e in events if e.event == "job.progress"]) < 20  # stopped part-way
    assert final["assets"] == []
    assert again.status_code == 200 and again.json()["outcome"] == "already_cancelled"


async def test_a_job_cancelled_while_queued_is_cancelled_at_once_and_never_runs(
    make_stack,  # type: ignore[no-untyped-def]
) -> None:
    stack = make_stack()
    stack.stop("image-worker")  # nothing picks the job up meanwhile
    owner, stranger = user(), user()
    async with httpx.AsyncClient(timeout=60) as http:
        job = await submit(http, stack.gateway_url, owner, width=64, height=64)
        foreign = await http.delete(job["status_url"], headers=auth(stranger))
        response = await http.delete(job["status_url"], headers=auth(owner))
        status = (await http.get(job["status_url"], headers=auth(owner))).json()
        stack.start("image-worker")
        later = await submit(http, stack.gateway_url, owner, width=64, height=64)
        await wait_for_status(http, later["status_url"], owner, "completed")  # the worker ran
        history = (await http.get(f"{job['status_url']}/events", headers=auth(owner))).json()

    assert foreign.status_code == 404
    assert response.status_code == 200 and response.json()["outcome"] == "cancelled"
    assert status["status"] == "cancelled"
    assert [e["type"] for e in history["events"]] == ["job.queued", "job.cancelled"]


async def test_cancelling_a_completed_job_changes_nothing(
    make_stack,  # type: ignore[no-untyped-def]
) -> None:
    stack = make_stack()
    owner = user()
    async with httpx.AsyncClient(timeout=60) as http:
        job = await submit(http, stack.gateway_url, owner, width=64, height=64)
        await wait_for_status(http, job["status_url"], owner, "completed")
        response = await http.delete(job["status_url"], headers=auth(owner))
        final = (await http.get(job["status_url"], headers=auth(owner))).json()

    assert response.status_code == 200
    assert response.json()["outcome"] == "already_finished"
    assert final["status"] == "completed" and final["assets"]


async def test_a_job_whose_request_the_broker_lost_is_queued_again_by_the_sweeper_and_completes(
    make_stack,  # type: ignore[no-untyped-def]
) -> None:
    stack = make_stack(SWEEPER_INTERVAL_S="0.3", SWEEPER_QUEUED_AFTER_S="1")
    owner = user()
    # A job stored as the gateway stores it, but whose messages never reached the broker: what
    # an embedded broker that restarted with its memory storage leaves behind.
    lost = new_job(owner, messages=False)
    job = lost.job
    db = open_database(DatabaseSettings(database_url=stack.env["DATABASE_URL"]))
    try:
        await JobStore(db).create_jobs([lost])
    finally:
        await db.dispose()
    status_url = f"{stack.gateway_url}/v1/jobs/{job.job_id}"
    async with httpx.AsyncClient(timeout=60) as http:
        final = await wait_for_status(http, status_url, owner, "completed", timeout_s=30)
        history = (await http.get(f"{status_url}/events", headers=auth(owner))).json()

    kinds = [e["type"] for e in history["events"]]
    assert kinds[:2] == ["job.queued", "job.queued"]  # the second one is the sweeper's
    assert kinds.count("job.completed") == 1
    assert final["assets"]
