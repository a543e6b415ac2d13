"""A text-to-image job through every service, as separate processes over real sockets, and the
per-user stream: it carries the events of all the caller's jobs and of nobody else's, and a
reconnect with Last-Event-ID resumes it with no gap and no duplicate. One stack serves both."""

import asyncio
import io
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import httpx
import pytest
from httpx_sse import aconnect_sse
from PIL import Image

from darkroom.runtime.db import open_database
from darkroom.runtime.db.history import EventHistory
from darkroom.runtime.kafka import make_producer
from darkroom.runtime.settings import DatabaseSettings, KafkaSettings
from tests.e2e.client import Received, data_events, follow, submit, wait_for_status
from tests.fixtures.procs import Stack
from tests.fixtures.tokens import auth, token_for
from tests.integration.helpers import read_topic

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(180)]


async def test_sse_shows_queued_started_rising_progress_completed_and_images_download(
    stack: Stack,
) -> None:
    user = f"u-{uuid.uuid4().hex[:8]}"
    async with httpx.AsyncClient(timeout=30) as http:
        job = await submit(http, stack.gateway_url, user, width=64, height=96, num_images=2)
        events = await follow(http, job["events_url"], auth(user))
        types = [e.event for e in events]
        assert types[:2] == ["job.queued", "job.started"] and types[-1] == "job.completed", types
        progress = [e.data["percent"] for e in events if e.event == "job.progress"]
        assert len(progress) >= 3 and progress == sorted(progress), progress
        assert [int(e.id) for e in events] == list(range(1, len(events) + 1))
        status = (await http.get(job["status_url"], headers=auth(user))).json()
        assert status["status"] == "completed" and status["progress"] == 100
        assert len(status["assets"]) == 2
        for asset in status["assets"]:
            image = Image.open(io.BytesIO((await http.get(asset["url"])).content))
            assert (image.format, image.size) == ("PNG", (64, 96))


async def test_a_subscriber_arriving_after_the_end_gets_the_history_and_the_close(
    stack: Stack,
) -> None:
    user = f"u-{uuid.uuid4().hex[:8]}"
    async with httpx.AsyncClient(timeout=30) as http:
        job = await submit(http, stack.gateway_url, user, width=64, height=64)
        await wait_for_status(http, job["status_url"], user, "completed")
        events = await follow(http, job["events_url"], auth(user), timeout_s=10)
        assert events[0].event == "job.queued" and events[-1].event == "job.completed"
        history = (await http.get(f"{job['status_url']}/events", headers=auth(user))).json()[
            "events"
        ]
        assert [e["event_id"] for e in history] == [e.data["event_id"] for e in events]


async def test_reconnecting_with_last_event_id_resumes_after_that_event(stack: Stack) -> None:
    user = f"u-{uuid.uuid4().hex[:8]}"
    async with httpx.AsyncClient(timeout=30) as http:
        job = await submit(http, stack.gateway_url, user, width=64, height=64)
        await wait_for_status(http, job["status_url"], user, "completed")
        events = await follow(
            http, job["events_url"], {**auth(user), "Last-Event-ID": "3"}, timeout_s=10
        )
        assert int(events[0].id) == 4 and events[-1].event == "job.completed"


async def test_another_users_job_stream_is_404_before_any_event(stack: Stack) -> None:
    async with httpx.AsyncClient(timeout=30) as http:
        job = await submit(http, stack.gateway_url, "owner-1", width=64, height=64)
        response = await http.get(job["events_url"], headers=auth("intruder-1"))
        assert response.status_code == 404
        missing = await http.get(
            f"{stack.notifier_url}/v1/jobs/{uuid.uuid4()}/events", headers=auth("owner-1")
        )
        assert missing.status_code == 404


async def test_eventsource_style_stream_token_in_the_url_works_and_api_tokens_there_do_not(
    stack: Stack,
) -> None:
    user = f"u-{uuid.uuid4().hex[:8]}"
    async with httpx.AsyncClient(timeout=30) as http:
        job = await submit(http, stack.gateway_url, user, width=64, height=64)
        minted = await http.post(f"{stack.gateway_url}/v1/stream-tokens", headers=auth(user))
        assert minted.status_code == 201
        events = await follow(
            http, f"{job['events_url']}?access_token={minted.json()['token']}", {}
        )
        assert events[-1].event == "job.completed"
        refused = await http.get(f"{job['events_url']}?access_token={token_for(user)}")
        assert refused.status_code == 401
        api_with_stream_token = await http.get(
            job["status_url"], headers={"Authorization": f"Bearer {minted.json()['token']}"}
        )
        assert api_with_stream_token.status_code == 403


async def test_malformed_requests_on_every_partition_are_dead_lettered_and_jobs_behind_them_complete(
    stack: Stack,
) -> None:
    settings = KafkaSettings(
        kafka_bootstrap_servers=stack.env["KAFKA_BOOTSTRAP_SERVERS"],
        kafka_topic_suffix=stack.env["KAFKA_TOPIC_SUFFIX"],
    )
    producer = make_producer(settings, "poison")
    await producer.start()
    try:
        topic = settings.topics.image.requested
        partitions = await producer.partitions_for(topic)
        for partition in partitions:
            await producer.send_and_wait(topic, b"{not json", partition=partition)
            await producer.send_and_wait(
                topic, b'{"type": "job.image.requested"}', partition=partition
            )
    finally:
        await producer.stop()
    user = f"u-{uuid.uuid4().hex[:8]}"
    async with httpx.AsyncClient(timeout=30) as http:
        jobs = [await submit(http, stack.gateway_url, user, width=64, height=64) for _ in range(3)]
        for job in jobs:
            events = await follow(http, job["events_url"], auth(user))
            assert events[-1].event == "job.completed"
    dead = await read_topic(
        settings.kafka_bootstrap_servers, settings.topics.image.dlq, 2 * len(partitions)
    )
    assert sorted(r.value for r in dead) == sorted(
        [b"{not json", b'{"type": "job.image.requested"}'] * len(partitions)
    )
    for record in dead:
        headers = {k: v.decode() for k, v in record.headers}
        assert headers["dlq-original-topic"] == settings.topics.image.requested
        assert headers["dlq-error-code"] == "invalid_input"


async def test_user_stream_carries_every_job_of_the_caller_and_none_of_others(stack: Stack) -> None:
    user, other = f"u-{uuid.uuid4().hex[:8]}", f"o-{uuid.uuid4().hex[:8]}"
    completed: set[str] = set()
    seen_users: set[str] = set()
    async with httpx.AsyncClient(timeout=30) as http:
        async with (
            asyncio.timeout(60),
            aconnect_sse(
                http, "GET", f"{stack.notifier_url}/v1/events", headers=auth(user)
            ) as source,
        ):
            assert source.response.status_code == 200
            mine = [
                await submit(http, stack.gateway_url, user, width=64, height=64) for _ in range(3)
            ]
            await submit(http, stack.gateway_url, other, width=64, height=64)
            async for sse in data_events(source):
                seen_users.add(sse.json()["user_id"])
                if sse.event == "job.completed":
                    completed.add(sse.json()["job_id"])
                if completed == {j["job_id"] for j in mine}:
                    break
    assert seen_users == {user}


async def read_until(
    http: httpx.AsyncClient,
    url: str,
    headers: dict[str, str],
    done: Callable[[list[Received]], bool],
    once_open: Callable[[], Awaitable[object]] | None = None,
) -> list[Received]:
    """The stream's events until `done(received so far)` holds; then the client disconnects.
    `once_open` runs when the stream has answered, before its events are read."""
    received: list[Received] = []
    async with asyncio.timeout(60), aconnect_sse(http, "GET", url, headers=headers) as source:
        assert source.response.status_code == 200, await source.response.aread()
        if once_open is not None:
            await once_open()
        async for sse in data_events(source):
            received.append(Received(sse.event, sse.id, sse.json()))
            if done(received):
                return received
    raise AssertionError(f"the stream ended after {len(received)} events")


async def users_recorded_history(stack: Stack, user: str) -> list[tuple[str, str]]:
    """(recorded id, event id) of every accepted event of the user's jobs, from the database."""
    db = open_database(DatabaseSettings(database_url=stack.env["DATABASE_URL"]))
    try:
        recorded = await EventHistory(db).user_events_after(user, 0, limit=10_000)
    finally:
        await db.dispose()
    return [(str(r.id), str(r.event.event_id)) for r in recorded]


async def test_a_reconnect_with_last_event_id_resumes_the_user_stream_without_gap_or_duplicate(
    stack: Stack,
) -> None:
    user, url = f"u-{uuid.uuid4().hex[:8]}", f"{stack.notifier_url}/v1/events"

    def completed(received: list[Received]) -> set[str]:
        return {r.data["job_id"] for r in received if r.event == "job.completed"}

    async with httpx.AsyncClient(timeout=30) as http:
        before_jobs: list[dict[str, Any]] = []

        async def submit_two() -> None:
            for _ in range(2):
                before_jobs.append(await submit(http, stack.gateway_url, user, width=64, height=64))

        before = await read_until(http, url, auth(user), lambda r: bool(completed(r)), submit_two)
        # Away: more jobs run and every job ends while nobody listens.
        later = [await submit(http, stack.gateway_url, user, width=64, height=64) for _ in range(2)]
        jobs = {j["job_id"]: j for j in before_jobs + later}
        for job in jobs.values():
            await wait_for_status(http, job["status_url"], user, "completed")
        resumed = await read_until(
            http,
            url,
            {**auth(user), "Last-Event-ID": before[-1].id},
            lambda r: completed(before) | completed(r) == set(jobs),
        )

    got = [(r.id, r.data["event_id"]) for r in before + resumed]
    assert got == await users_recorded_history(stack, user)  # each once, none missing, in order


async def read_to_the_end(
    http: httpx.AsyncClient, url: str, once_open: Callable[[], Awaitable[object]]
) -> list[Received]:
    """The stream's events until the server ends it; `once_open` runs when it has answered."""
    received: list[Received] = []
    async with aconnect_sse(http, "GET", url) as source:
        assert source.response.status_code == 200, await source.response.aread()
        await once_open()
        async for sse in data_events(source):
            received.append(Received(sse.event, sse.id, sse.json()))
    return received


async def test_a_stream_ends_when_its_stream_token_expires_and_resumes_with_a_fresh_one(
    stack: Stack,
) -> None:
    user, url = f"u-{uuid.uuid4().hex[:8]}", f"{stack.notifier_url}/v1/events?access_token="
    async with httpx.AsyncClient(timeout=30) as http:

        async def submit_one() -> None:
            await submit(http, stack.gateway_url, user, width=64, height=64)

        started = time.monotonic()
        async with asyncio.timeout(15):  # a stream that outlives its token fails here
            short = token_for(user, scope="stream", ttl=timedelta(seconds=2))
            before = await read_to_the_end(http, url + short, submit_one)
        lasted = time.monotonic() - started
        # The client gets a fresh token and resumes after the last event it received (the
        # user is new: "0" is before all of their events).
        minted = await http.post(f"{stack.gateway_url}/v1/stream-tokens", headers=auth(user))
        resumed = await read_until(
            http,
            url + minted.json()["token"],
            {"Last-Event-ID": before[-1].id if before else "0"},
            lambda r: sum(e.event == "job.completed" for e in before + r) == 2,
            submit_one,
        )

    assert lasted < 6, f"the stream lasted {lasted:.1f} s on a 2 s token"
    got = [(r.id, r.data["event_id"]) for r in before + resumed]
    assert got == await users_recorded_history(stack, user)  # each once, none missing, in order
