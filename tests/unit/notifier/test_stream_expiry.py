"""A stream ends when the token that opened it expires (a comment says so), so that a leaked or
revoked-by-expiry token stops delivering; the client resumes with a fresh token and Last-Event-ID."""

import asyncio
import time
import uuid
from collections.abc import AsyncGenerator
from contextlib import aclosing
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sse_starlette import ServerSentEvent

from darkroom.notifier.hub import Hub
from darkroom.notifier.streams import EXPIRED, job_stream, until_expiry, user_stream
from darkroom.runtime.db import JobRecord
from tests.factories import job_record, job_timeline, random_user_id
from tests.fixtures.tokens import token_for
from tests.unit.notifier.fakes import FakeHistory, collect, recorded_ids, take
from tests.unit.notifier.test_routes import an_app

NOW = datetime(2030, 1, 1, tzinfo=UTC)


def fake_clock(at: datetime) -> float:
    return at.timestamp()


async def test_a_user_stream_sends_until_its_token_expires_then_says_so_and_ends() -> None:
    user, hub, history = random_user_id(), Hub(), FakeHistory()
    expires = NOW + timedelta(seconds=0.3)
    stream = user_stream(user, 0, hub, history)  # type: ignore[arg-type]
    async with aclosing(until_expiry(expires, stream, now=lambda: fake_clock(NOW))) as limited:
        history.record(*job_timeline("job.queued", "job.started", user_id=user))
        before = await take(limited, 2)
        started = time.monotonic()
        rest = await collect(limited)  # the user stream never ends by itself

    assert recorded_ids(before, history) == [1, 2]
    assert rest == [EXPIRED] and rest[0].comment
    assert 0.2 <= time.monotonic() - started < 1.5
    assert hub.open_streams == 0  # the subscription is gone with the stream


async def test_a_stream_whose_token_has_already_expired_on_the_clock_ends_at_once() -> None:
    user, hub, history = random_user_id(), Hub(), FakeHistory()
    history.record(*job_timeline("job.queued", user_id=user))
    stream = user_stream(user, 0, hub, history)  # type: ignore[arg-type]
    a_second_late = NOW + timedelta(seconds=1)
    async with asyncio.timeout(0.5):
        sent = await collect(until_expiry(NOW, stream, now=lambda: fake_clock(a_second_late)))

    assert sent == [EXPIRED]


async def test_a_stream_that_ends_before_its_token_expires_ends_as_before() -> None:
    events, hub, history = job_timeline("job.queued", "job.completed"), Hub(), FakeHistory()
    history.record(*events)
    stream = job_stream(events[0].job_id, 0, hub, history)  # type: ignore[arg-type]
    sent = await collect(until_expiry(datetime.now(UTC) + timedelta(hours=1), stream))

    assert [s.event for s in sent] == ["job.queued", "job.completed"]


async def test_a_timeout_inside_the_stream_is_not_taken_for_the_token_expiring() -> None:
    async def failing() -> AsyncGenerator[ServerSentEvent, None]:
        yield ServerSentEvent(data="x")
        raise TimeoutError("the database did not answer")

    with pytest.raises(TimeoutError, match="database"):
        await collect(until_expiry(datetime.now(UTC) + timedelta(hours=1), failing()))


class OneJob:
    """The job store with one job in it, queued and quiet: its stream waits for events."""

    def __init__(self, user: str) -> None:
        self.record = job_record("queued", user_id=user)

    async def get_job(self, job_id: uuid.UUID) -> JobRecord | None:
        return self.record if job_id == self.record.job_id else None


@pytest.mark.parametrize("route", ["user", "job"])
async def test_a_stream_opened_with_a_two_second_stream_token_ends_when_it_expires(
    route: str,
) -> None:
    user = random_user_id()
    app, store = an_app(), OneJob(user)
    app.state.services.store = store
    token = token_for(user, scope="stream", ttl=timedelta(seconds=2))
    path = "/v1/events" if route == "user" else f"/v1/jobs/{store.record.job_id}/events"
    started = time.monotonic()
    async with (
        httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://n.test") as http,
        asyncio.timeout(6),  # a stream that does not end fails the test here
    ):
        response = await http.get(path, params={"access_token": token})  # once the stream ends

    assert response.status_code == 200, response.text
    assert response.text.startswith(": token expired")
    assert time.monotonic() - started < 4  # a JWT's exp is in whole seconds
