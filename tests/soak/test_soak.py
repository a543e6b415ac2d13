"""Soak: 2,000 jobs while two image workers are killed (-9) and restarted at random. `make soak`.

Checks, from the database and the object store: every job accepted is completed, exactly one
terminal event per job, and exactly one asset file per job (reruns overwrite, never add). Prints
its figures (jobs, kills, duration, jobs run more than once, temporary files left by writes a
kill cut off: the next start of a worker removes those once they are 10 minutes old).
"""

from __future__ import annotations

import asyncio
import random
import re
import signal
import sqlite3
import time
import uuid
from collections import Counter
from pathlib import Path

import httpx
import pytest

from tests.e2e.client import submit
from tests.fixtures.procs import SERVICES, Stack

pytestmark = [pytest.mark.slow, pytest.mark.e2e, pytest.mark.timeout(1800)]

STARTED = re.compile(r"job ([0-9a-f-]{36}) attempt \d+ started")
JOBS = 2000
IN_FLIGHT = 50


WORKERS = ("image-worker", "image-worker-2")


async def chaos(stack: Stack, stop: asyncio.Event, kills: list[float]) -> None:
    """Kill -9 one of the workers every 2-6 s and start it again at once, until told to stop."""
    rng = random.Random(7)
    while not stop.is_set():
        try:
            await asyncio.wait_for(stop.wait(), rng.uniform(2, 6))
        except TimeoutError:
            victim = rng.choice(WORKERS)
            stack.stop(victim, signal.SIGKILL)
            kills.append(time.monotonic())
            await asyncio.to_thread(stack.start_replica, victim, "image-worker")


def counts(db: Path) -> dict[str, int]:
    with sqlite3.connect(db) as conn:
        return {
            "jobs": conn.execute("SELECT count(*) FROM jobs").fetchone()[0],
            "completed": conn.execute(
                "SELECT count(*) FROM jobs WHERE status='completed'"
            ).fetchone()[0],
            "jobs_with_two_terminal_events": conn.execute(
                "SELECT count(*) FROM (SELECT job_id FROM job_events WHERE type IN "
                "('job.completed','job.failed','job.cancelled') GROUP BY job_id HAVING count(*) > 1)"
            ).fetchone()[0],
        }


def reruns(workdir: Path) -> int:
    """Jobs whose attempt a worker started more than once (a kill cut the first run off). The
    reruns emit the same event ids and asset keys, so none of them shows in the job's history."""
    starts = Counter(
        match.group(1)
        for log in workdir.glob("image-worker*.log")
        for match in STARTED.finditer(log.read_text(errors="replace"))
    )
    return sum(1 for count in starts.values() if count > 1)


async def submit_and_wait(stack: Stack, user: str, db: Path) -> None:
    """Submit every job with IN_FLIGHT at once, then wait until all are completed (or 15 min)."""
    async with httpx.AsyncClient(timeout=60) as http:
        tickets = iter(range(JOBS))

        async def client() -> None:
            for _ in tickets:
                await submit(http, stack.gateway_url, user, width=64, height=64, model="noop")

        await asyncio.gather(*(client() for _ in range(IN_FLIGHT)))
    deadline = time.monotonic() + 900
    while counts(db)["completed"] < JOBS and time.monotonic() < deadline:  # noqa: ASYNC110
        await asyncio.sleep(1)


async def test_two_thousand_jobs_survive_workers_killed_at_random(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    suffix = f"soak-{uuid.uuid4().hex[:8]}"
    stack = Stack.configure(
        tmp_path,
        kafka_bootstrap,
        suffix=suffix,
        LOG_LEVEL="INFO",  # the workers log each start: how many jobs a kill made run twice
        LOCAL_PROVIDER_STEP_DELAY_S="0.05",  # 4 steps: a job runs about 0.2 s, so kills hit jobs
    )
    stack.migrate()
    stack.start(*SERVICES)
    stack.start_replica("image-worker-2", "image-worker")
    stop, kills = asyncio.Event(), []
    started = time.monotonic()
    try:
        chaos_task = asyncio.create_task(chaos(stack, stop, kills))
        await submit_and_wait(stack, f"soak-{uuid.uuid4().hex[:6]}", tmp_path / "darkroom.db")
        stop.set()
        await chaos_task
        figures = counts(tmp_path / "darkroom.db")
    finally:
        stack.stop_all()
    files = list((tmp_path / "assets" / "jobs").glob("*/*"))
    figures |= {
        "kills": len(kills),
        "seconds": round(time.monotonic() - started, 1),
        "asset_files": len([f for f in files if not f.name.startswith(".")]),
        "unfinished_temporary_files": len([f for f in files if f.name.startswith(".")]),
        "jobs_run_more_than_once": reruns(tmp_path),
    }
    print(f"\nsoak figures: {figures}")
    assert figures["jobs"] == JOBS
    assert figures["completed"] == JOBS
    assert figures["jobs_with_two_terminal_events"] == 0
    assert figures["asset_files"] == JOBS  # one per job: reruns overwrote
    assert figures["kills"] >= 3
