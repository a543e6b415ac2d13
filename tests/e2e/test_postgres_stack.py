"""The production shape: PostgreSQL (asyncpg, the relay woken by LISTEN/NOTIFY) and S3 (presigned URLs)."""

import io
import signal
import uuid
from collections.abc import Iterator

import httpx
import pytest
from PIL import Image

from tests.e2e.client import follow, submit
from tests.fixtures.procs import SERVICES, Stack
from tests.fixtures.s3 import S3Endpoint
from tests.fixtures.tokens import auth

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(180)]


@pytest.fixture(scope="module")
def pg_stack(
    kafka_bootstrap: str,
    postgres_url: str,
    s3_endpoint: S3Endpoint,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Stack]:
    workdir = tmp_path_factory.mktemp("pgstack")
    # A sweep far slower than the test: only a notification can wake the relay in time.
    stack = Stack.configure(
        workdir,
        kafka_bootstrap,
        suffix=uuid.uuid4().hex[:12],
        database_url=postgres_url,
        RELAY_POLL_INTERVAL_S="60",
        STORAGE_BACKEND="s3",
        S3_ENDPOINT=s3_endpoint.url,
        S3_ACCESS_KEY=s3_endpoint.access_key,
        S3_SECRET_KEY=s3_endpoint.secret_key,
        S3_BUCKET=f"darkroom-e2e-{uuid.uuid4().hex[:8]}",
    )
    stack.start(*SERVICES)
    yield stack
    codes = stack.stop_all()
    assert set(codes.values()) <= {0, -signal.SIGTERM}, f"unclean exits {codes}\n{stack.logs()}"


async def test_jobs_complete_on_postgresql_and_download_from_s3_presigned_urls(
    pg_stack: Stack, s3_endpoint: S3Endpoint
) -> None:
    s3_url = s3_endpoint.url
    user = f"u-{uuid.uuid4().hex[:8]}"
    async with httpx.AsyncClient(timeout=30) as http:
        for _ in range(3):
            job = await submit(http, pg_stack.gateway_url, user, width=64, height=64)
            events = await follow(http, job["events_url"], auth(user), timeout_s=30)
            assert events[-1].event == "job.completed"
            status = (await http.get(job["status_url"], headers=auth(user))).json()
            assert status["status"] == "completed" and len(status["assets"]) == 1
            asset = status["assets"][0]
            assert asset["url"].startswith(s3_url) and "X-Amz-Signature=" in asset["url"]
            image = Image.open(io.BytesIO((await http.get(asset["url"])).content))
            assert (image.format, image.size) == ("PNG", (64, 64))
