"""The per-user stream carries the events of all the caller's jobs and of nobody else's."""

import asyncio
import uuid

import httpx
import pytest
from httpx_sse import aconnect_sse

from tests.e2e.client import data_events, submit
from tests.fixtures.procs import Stack
from tests.fixtures.tokens import auth

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]


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
