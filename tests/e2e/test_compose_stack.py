"""docker-compose.yml actually runs: each Darkroom service's own `command` with its own
`environment`, interpolated as Compose does, started as local processes in the file's
dependency order, scaled out (2 gateways, 2 notifiers, 3 image workers).

No Docker engine here, so the servers are mapped: `kafka:9092` to a Tansu broker, `postgres` to
the local PostgreSQL (the compose file's role, password and a fresh database), `minio:9000` to an
S3 server; the bucket step's `mc mb` is done with the minio client. What differs from Compose is
only what a container gives for free: its own host name (INSTANCE_ID) and port (*_PORT), and
KAFKA_ENABLE_IDEMPOTENCE off, which the embedded broker refuses. A missing variable or a wrong
command in the compose file fails here.

Jobs go through both gateways and are watched on both notifiers; an image worker is killed
(SIGKILL) while it runs one; every job must complete exactly once.
"""

from __future__ import annotations

import asyncio
import collections
import os
import re
import signal
import subprocess
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest
from httpx_sse import aconnect_sse

from darkroom.runtime.embedded.stack import BIN, READY_PATHS, ServiceProcess, free_port, patience
from darkroom.runtime.healthcheck import HTTP_PORTS
from tests.e2e.client import Received, data_events, submit
from tests.fixtures.compose import ComposeService, load_services, start_order
from tests.fixtures.db import _admin, run_in_thread
from tests.fixtures.kafka import TansuProcess, own_broker_only
from tests.fixtures.s3 import S3Endpoint
from tests.fixtures.tokens import auth

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(420), own_broker_only]

REPLICAS = {"gateway": 2, "notifier": 2, "image-worker": 3}
JOBS = 60
KILLED = "image-worker-3"
FRESH = timedelta(seconds=0.5)  # a job runs 1.2 s: one started this recently is mid-run
SERVERS = {"kafka", "postgres", "minio", "bucket"}  # not Darkroom's image: mapped or done here


@dataclass
class LocalCompose:
    """The compose file's Darkroom services as local processes."""

    workdir: Path
    env: dict[str, str]  # the variables Compose would interpolate the file with
    hosts: dict[str, str]  # compose host:port -> local host:port
    database_url: str
    services: dict[str, ComposeService] = field(default_factory=dict)
    running: dict[str, ServiceProcess] = field(default_factory=dict)
    ports: dict[str, int] = field(default_factory=dict)

    def environment(self, service: ComposeService) -> dict[str, str]:
        env = {k: os.environ[k] for k in ("PATH", "HOME", "LANG", "TMPDIR") if k in os.environ}
        for name, value in service.environment.items():
            for compose_host, local in self.hosts.items():
                value = value.replace(compose_host, local)
            env[name] = value
        if "DATABASE_URL" in env:
            env["DATABASE_URL"] = self.database_url
        leftover = [f"{k}={v}" for k, v in env.items() if any(h in v for h in COMPOSE_HOSTS)]
        assert not leftover, f"{service.name}: a compose host no mapping covers: {leftover}"
        env["KAFKA_ENABLE_IDEMPOTENCE"] = "false"  # the embedded broker refuses it
        return env

    def run_step(self, service: ComposeService) -> None:
        command = [str(BIN / service.command[0]), *service.command[1:]]
        done = subprocess.run(
            command, env=self.environment(service), capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, f"{service.name}: {done.stdout}\n{done.stderr}"

    def start(self, service: ComposeService, replica: int) -> str:
        name = service.name if replica == 1 else f"{service.name}-{replica}"
        env = self.environment(service) | {"INSTANCE_ID": name}
        if service.command[0] in HTTP_PORTS:
            setting = HTTP_PORTS[service.command[0]][0]
            self.ports.setdefault(name, free_port())  # the first gateway's and notifier's: set
            env[setting] = str(self.ports[name])
        log_path = self.workdir / f"{name}.log"
        with log_path.open("wb") as log:
            proc = subprocess.Popen(
                [str(BIN / service.command[0]), *service.command[1:]],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.workdir,
            )
        self.running[name] = ServiceProcess(name, proc, log_path, service.name)
        return name

    def wait_ready(self, name: str, timeout_s: float = 60) -> None:
        path = READY_PATHS.get(self.running[name].service)
        if path is None:
            return
        deadline = time.monotonic() + patience(timeout_s)
        while time.monotonic() < deadline:
            proc = self.running[name].proc
            assert proc.poll() is None, f"{name} exited:\n{self.running[name].log()[-3000:]}"
            try:
                with urllib.request.urlopen(f"{self.url(name)}{path}", timeout=2):
                    return
            except (urllib.error.URLError, OSError):
                time.sleep(0.1)
        raise TimeoutError(f"{name} not ready:\n{self.running[name].log()[-3000:]}")

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.ports[name]}"

    def logs(self) -> str:
        return "\n".join(f"--- {p.name}\n{p.log()[-2000:]}" for p in self.running.values())


COMPOSE_HOSTS = ("kafka:9092", "postgres:5432", "minio:9000")


def _stop_together(stack: LocalCompose) -> dict[str, int]:
    """SIGTERM to every process at once (as `docker compose down`), then their exit codes."""
    for process in stack.running.values():
        if process.proc.poll() is None:
            process.proc.terminate()
    deadline = time.monotonic() + patience(45)
    for process in stack.running.values():
        try:
            process.proc.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.proc.kill()
            process.proc.wait()
    return {name: process.proc.returncode for name, process in stack.running.items()}


def _database(compose: dict[str, ComposeService], admin_url: str) -> str:
    """A fresh database owned by the compose file's role, and the compose DATABASE_URL moved
    onto it (the file's user and password kept)."""
    pg = compose["postgres"].environment
    user, password = pg["POSTGRES_USER"], pg["POSTGRES_PASSWORD"]
    name = f"darkroom_compose_{uuid.uuid4().hex[:8]}"
    admin = admin_url.replace("postgresql+asyncpg://", "postgresql://")
    run_in_thread(
        _admin(
            admin,
            f"DO $$ BEGIN CREATE ROLE {user} LOGIN PASSWORD '{password}'; "
            "EXCEPTION WHEN duplicate_object THEN NULL; END $$",
        )
    )
    run_in_thread(_admin(admin, f'CREATE DATABASE "{name}" OWNER {user}'))
    url = urlsplit(compose["gateway"].environment["DATABASE_URL"])
    assert (url.username, url.password) == (user, password), "DATABASE_URL and postgres differ"
    assert url.path == f"/{pg['POSTGRES_DB']}"
    local = urlsplit(admin)
    netloc = f"{user}:{password}@{local.hostname}:{local.port or 5432}"
    return urlunsplit(url._replace(netloc=netloc, path=f"/{name}"))


@pytest.fixture
def local_compose(
    broker: TansuProcess, postgres_admin_url: str, s3_endpoint: S3Endpoint, tmp_path: Path
) -> Iterator[LocalCompose]:
    first_gateway, first_notifier = free_port(), free_port()
    variables = {
        "PUBLIC_BASE_URL": f"http://127.0.0.1:{first_gateway}",
        "NOTIFIER_PUBLIC_URL": f"http://127.0.0.1:{first_notifier}",
        "S3_PUBLIC_ENDPOINT": s3_endpoint.url,
        "LOCAL_PROVIDER_STEP_DELAY_S": "0.3",  # a job runs 1.2 s: the kill lands mid-job
    }
    services = load_services(variables)
    s3 = urlsplit(s3_endpoint.url)
    stack = LocalCompose(
        workdir=tmp_path,
        env=variables,
        hosts={"kafka:9092": broker.bootstrap, "minio:9000": f"{s3.hostname}:{s3.port}"},
        database_url=_database(services, postgres_admin_url),
        services=services,
        ports={"gateway": first_gateway, "notifier": first_notifier},
    )
    bucket = services["gateway"].environment["S3_BUCKET"]
    client = s3_endpoint.client()
    if not client.bucket_exists(bucket):
        client.make_bucket(bucket)  # the bucket step: `mc mb --ignore-existing store/<bucket>`
    try:
        long_running = []
        for name in start_order(services):
            service = services[name]
            if name in SERVERS:
                continue
            assert service.is_darkroom, f"{name}: neither a server nor a Darkroom process"
            if service.one_shot:
                stack.run_step(service)  # in order, each to completion, as Compose runs them
            else:
                long_running.append(service)
        # Every service waits only for the steps: Compose starts them together.
        for service in long_running:
            assert set(service.depends_on) <= {s.name for s in services.values() if s.one_shot}
            for replica in range(1, REPLICAS.get(service.name, 1) + 1):
                stack.start(service, replica)
        for name in list(stack.running):
            stack.wait_ready(name)
        yield stack
    finally:
        codes = _stop_together(stack)
        unclean = {n: c for n, c in codes.items() if c not in (0, -signal.SIGTERM) and n != KILLED}
        assert not unclean, f"unclean exits {unclean}\n{stack.logs()}"


@dataclass
class Watched:
    job_id: str
    gateway: str
    notifier: str
    events: list[Received] = field(default_factory=list)


async def _watch(http: httpx.AsyncClient, job: Watched, events_url: str, user: str) -> None:
    """Follow the job's stream on its notifier, event by event, until the stream ends."""
    async with (
        asyncio.timeout(patience(240)),
        aconnect_sse(http, "GET", events_url, headers=auth(user)) as source,
    ):
        assert source.response.status_code == 200, await source.response.aread()
        async for sse in data_events(source):
            job.events.append(Received(sse.event, sse.id, sse.json()))


def _started_by(job: Watched) -> list[str]:
    """Workers that reported starting the job (a run redone after a crash repeats the first
    run's event ids, so its start is recognised as a duplicate and not shown again)."""
    return [e.data["worker_id"] for e in job.events if e.event == "job.started"]


async def test_the_compose_stack_scaled_out_completes_every_job_once_when_a_worker_is_killed(
    local_compose: LocalCompose,
) -> None:
    stack, user = local_compose, f"u-{uuid.uuid4().hex[:8]}"
    gateways = [n for n in stack.running if n.startswith("gateway")]
    notifiers = [n for n in stack.running if n.startswith("notifier")]
    assert len(gateways) == 2 and len(notifiers) == 2
    watched: list[Watched] = []
    async with httpx.AsyncClient(timeout=30, limits=httpx.Limits(max_connections=200)) as http:
        followers = []
        for i in range(JOBS):
            gateway, notifier = gateways[i % 2], notifiers[(i // 2) % 2]
            job = await submit(http, stack.url(gateway), user, width=64, height=64)
            one = Watched(job["job_id"], gateway, notifier)
            events_url = job["events_url"].replace(
                stack.env["NOTIFIER_PUBLIC_URL"], stack.url(notifier)
            )
            followers.append(asyncio.create_task(_watch(http, one, events_url, user)))
            watched.append(one)
        killed_mid, killed_at = await _kill_while_running(stack, watched)
        await asyncio.gather(*followers)
        statuses, histories = await _as_recorded(http, stack, watched, user)

    assert statuses == ["completed"] * JOBS
    for job in watched:
        terminal = [e.event for e in job.events if e.event in ("job.completed", "job.failed")]
        assert terminal == ["job.completed"], (job.job_id, [e.event for e in job.events])
        recorded = [e["type"] for e in histories[job.job_id]]
        assert recorded.count("job.completed") == 1, (job.job_id, recorded)
    completed_by = {name: _completed_in_log(stack, name) for name in REPLICAS_OF_IMAGE_WORKER}
    assert all(completed_by.values()), completed_by  # the three shared the work
    taken_over = [job for job in watched if job.job_id in killed_mid]
    for job in taken_over:  # running on the killed worker: finished after it died, by another
        [done] = [e for e in histories[job.job_id] if e["type"] == "job.completed"]
        assert datetime.fromisoformat(done["occurred_at"]) > killed_at, job.job_id
    runs = sum(len(done) for done in completed_by.values())
    print(
        f"\ncompose stack: {JOBS} jobs, each completed once; completed per image worker "
        f"{ {n: len(done) for n, done in completed_by.items()} } ({runs} runs); "
        f"{len(taken_over)} running on {KILLED} when it was killed, finished by the others; "
        f"per gateway {dict(collections.Counter(j.gateway for j in watched))}, per notifier "
        f"{dict(collections.Counter(j.notifier for j in watched))}"
    )


async def _as_recorded(
    http: httpx.AsyncClient, stack: LocalCompose, watched: list[Watched], user: str
) -> tuple[list[str], dict[str, list[dict[str, str]]]]:
    """Each job's status on the gateway it was sent to, and its history on the other one."""
    statuses, histories = [], {}
    for job in watched:
        status = await http.get(
            f"{stack.url(job.gateway)}/v1/jobs/{job.job_id}", headers=auth(user)
        )
        statuses.append(status.json()["status"])
        other = "gateway" if job.gateway == "gateway-2" else "gateway-2"
        history = await http.get(
            f"{stack.url(other)}/v1/jobs/{job.job_id}/events", headers=auth(user)
        )
        histories[job.job_id] = history.json()["events"]
    return statuses, histories


REPLICAS_OF_IMAGE_WORKER = ("image-worker", "image-worker-2", "image-worker-3")
_COMPLETED = re.compile(r'"msg": "job ([0-9a-f-]{36}) completed"')


def _completed_in_log(stack: LocalCompose, name: str) -> set[str]:
    """The jobs whose attempt a worker finished, from its own log."""
    return set(_COMPLETED.findall(stack.running[name].log()))


async def _kill_while_running(
    stack: LocalCompose, watched: list[Watched]
) -> tuple[set[str], datetime]:
    """SIGKILL the third image worker once it has finished a job and while a job it started
    less than half a job ago runs (so the kill lands mid-job); those jobs, and when."""
    deadline = time.monotonic() + patience(60)
    while time.monotonic() < deadline:
        now = datetime.now(UTC)
        fresh = {
            job.job_id
            for job in watched
            if (start := _last_start(job)) is not None
            and start.data["worker_id"] == KILLED
            and now - datetime.fromisoformat(start.data["occurred_at"]) < FRESH
            and not any(e.event == "job.completed" for e in job.events)
        }
        if fresh and _completed_in_log(stack, KILLED):
            stack.running[KILLED].proc.send_signal(signal.SIGKILL)
            killed_at = datetime.now(UTC)
            stack.running[KILLED].proc.wait()
            return fresh, killed_at
        await asyncio.sleep(0.02)
    raise AssertionError(f"no job ever ran on {KILLED}:\n{stack.logs()}")


def _last_start(job: Watched) -> Received | None:
    starts = [e for e in job.events if e.event == "job.started"]
    return starts[-1] if starts else None
