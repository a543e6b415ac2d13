"""A text-to-image job through every service, as separate processes over real sockets."""

import io
import uuid

import httpx
import pytest
from PIL import Image

from darkroom.runtime.kafka import make_producer
from darkroom.runtime.settings import KafkaSettings
from tests.e2e.client import follow, submit, wait_for_status
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
