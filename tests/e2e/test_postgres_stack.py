"""The same pipeline on PostgreSQL: asyncpg, and the relay woken by LISTEN/NOTIFY."""

import signal
import uuid
from collections.abc import Iterator

import httpx
import pytest

from tests.e2e.client import follow, submit
from tests.fixtures.procs import SERVICES, Stack
from tests.fixtures.tokens import auth

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(180)]


@pytest.fixture(scope="module")
def pg_stack(
    kafka_bootstrap: str, postgres_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    workdir = tmp_path_factory.mktemp("pgstack")
    # A sweep far slower than the test: only a notification can wake the relay in time.
    stack = Stack.configure(
        workdir,
        kafka_bootstrap,
        suffix=uuid.uuid4().hex[:12],
        database_url=postgres_url,
        RELAY_POLL_INTERVAL_S="60",
    )
    stack.start(*SERVICES)
    yield stack
    codes = stack.stop_all()
    assert set(codes.values()) <= {0, -signal.SIGTERM}, f"unclean exits {codes}\n{stack.logs()}"


async def test_jobs_complete_on_postgresql_with_the_relay_woken_by_notifications(
    pg_stack: Stack,
) -> None:
    user = f"u-{uuid.uuid4().hex[:8]}"
    async with httpx.AsyncClient(timeout=30) as http:
        for _ in range(3):
            job = await submit(http, pg_stack.gateway_url, user, width=64, height=64)
            events = await follow(http, job["events_url"], auth(user), timeout_s=30)
            assert events[-1].event == "job.completed"
            status = (await http.get(job["status_url"], headers=auth(user))).json()
            assert status["status"] == "completed" and len(status["assets"]) == 1
