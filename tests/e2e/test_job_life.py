"""A job's life under the faults that used to make work show twice: a backlog longer than the
sweeper's deadline, a worker paused past the stalled deadline, and failed children retried.

Every service is its own process on a real broker; the database is read directly to see every
event that was ever reported, including the ones a job refused."""

from __future__ import annotations

import asyncio
import itertools
import json
import signal
import sqlite3
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.client import follow, submit, wait_for_status
from tests.fixtures.procs import Stack
from tests.fixtures.tokens import auth

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(240)]


def user() -> str:
    return f"u-{uuid.uuid4().hex[:8]}"


def reported(stack: Stack, job_id: str) -> list[dict[str, Any]]:
    """Every event recorded for the job, accepted or refused, in recorded order."""
    path = Path(stack.env["DATABASE_URL"].removeprefix("sqlite+aiosqlite:///"))
    with sqlite3.connect(path) as conn:
        rows = conn.execute(
            "SELECT type, seq, accepted, payload FROM job_events WHERE job_id = ? ORDER BY id",
            (job_id,),
        ).fetchall()
    return [
        {"type": t, "seq": s, "accepted": bool(a), "run": json.loads(p).get("request_id")}
        for t, s, a, p in rows
    ]


def accepted(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e for e in events if e["accepted"]]


TERMINAL = ("job.completed", "job.completed_with_errors", "job.failed", "job.cancelled")


def assert_one_history(events: list[dict[str, Any]], terminal: str = "job.completed") -> None:
    """One numbering (seq 1..n, each once); it ends with `terminal`, and an earlier terminal
    event is only ever followed by the `job.requeued` of a retry."""
    shown = accepted(events)
    assert [e["seq"] for e in shown] == list(range(1, len(shown) + 1)), shown
    assert shown[-1]["type"] == terminal, shown
    for before, after in itertools.pairwise(shown):
        if before["type"] in TERMINAL:
            assert after["type"] == "job.requeued", shown


async def test_a_backlog_longer_than_the_queued_deadline_runs_each_job_exactly_once(
    make_stack,  # type: ignore[no-untyped-def]
) -> None:
    # One worker slot, 0.6 s a job, 12 jobs: the last waits ~7 s, the deadline is 1.5 s.
    stack = make_stack(
        WORKER_CONCURRENCY="1",
        LOCAL_PROVIDER_STEP_DELAY_S="0.15",
        SWEEPER_INTERVAL_S="0.3",
        SWEEPER_QUEUED_AFTER_S="1.5",
    )
    owner = user()
    async with httpx.AsyncClient(timeout=60) as http:
        jobs = [
            await submit(http, stack.gateway_url, owner, width=64, height=64) for _ in range(12)
        ]
        finals = [
            await wait_for_status(http, j["status_url"], owner, "completed", timeout_s=90)
            for j in jobs
        ]
    for job, final in zip(jobs, finals, strict=True):
        events = reported(stack, job["job_id"])
        assert [e["type"] for e in events].count("job.started") == 1, events  # ran once
        assert [e["type"] for e in events].count("job.queued") == 1, events  # never re-sent
        assert_one_history(events)
        assert final["attempts"] == 1 and final["started_at"] is not None


async def test_a_worker_paused_past_the_stalled_deadline_leaves_one_history_and_one_outcome(
    make_stack,  # type: ignore[no-untyped-def]
) -> None:
    stack = make_stack(
        LOCAL_PROVIDER_STEP_DELAY_S="1.0",
        JOB_HEARTBEAT_S="0.5",
        SWEEPER_INTERVAL_S="0.3",
        SWEEPER_STALLED_AFTER_S="2",
    )
    stack.start_replica("image-worker-2", "image-worker")
    owner = user()
    async with httpx.AsyncClient(timeout=60) as http:
        job = await submit(http, stack.gateway_url, owner, width=64, height=64)
        await wait_for_status(http, job["status_url"], owner, "running")
        paused = next(
            p
            for p in stack.running.values()
            if p.service == "image-worker" and job["job_id"] in p.log()
        )
        paused.proc.send_signal(signal.SIGSTOP)  # a long GC pause, a hung provider call
        try:
            final = await wait_for_status(http, job["status_url"], owner, "completed", timeout_s=90)
        finally:
            paused.proc.send_signal(signal.SIGCONT)
        await asyncio.sleep(6)  # the paused run wakes up and goes on (or learns it was replaced)
        after = (await http.get(job["status_url"], headers=auth(owner))).json()
        replay = await follow(http, job["events_url"], auth(owner))

    events = reported(stack, job["job_id"])
    assert_one_history(events)
    shown = accepted(events)
    runs = [e["run"] for e in shown if e["type"] == "job.started"]
    assert (
        len(runs) == len(set(runs)) == 2
    )  # one job.started per run: the paused one, its successor
    completed_by = next(e["run"] for e in shown if e["type"] == "job.completed")
    assert completed_by == runs[-1]  # the run that replaced the paused one ended the job
    assert final["attempts"] == 2
    assert after["status"] == "completed" and after["attempts"] == 2
    assert [a["sha256"] for a in after["assets"]] == [a["sha256"] for a in final["assets"]]
    assert [e.id for e in replay] == [str(e["seq"]) for e in shown]  # the stream shows no other run


async def test_retrying_a_failed_step_moves_its_chain_on_to_completion(
    make_stack,  # type: ignore[no-untyped-def]
) -> None:
    stack = make_stack(LOCAL_PROVIDER_FAIL_ATTEMPTS="99", JOB_MAX_ATTEMPTS="1")
    stack.start("upscale-worker")
    owner = user()
    body = {
        "prompt": "a kite",
        "width": 64,
        "height": 64,
        "then": [{"type": "upscale", "scale": 2}],
    }
    async with httpx.AsyncClient(timeout=60) as http:
        response = await http.post(
            f"{stack.gateway_url}/v1/jobs/image", json=body, headers=auth(owner)
        )
        chain = response.json()
        await wait_for_status(http, chain["status_url"], owner, "failed")
        await restart_image_worker_without_faults(stack)
        step = chain["children"][0]
        retried = await http.post(f"{stack.gateway_url}/v1/jobs/{step}/retry", headers=auth(owner))
        assert retried.status_code == 202, retried.text
        final = await wait_for_status(http, chain["status_url"], owner, "completed", timeout_s=60)
    assert [c["type"] for c in final["children"]] == ["image", "upscale"]
    assert all(c["status"] == "completed" for c in final["children"])
    assert final["message"] == "completed all 2 steps"
    assert_one_history(reported(stack, chain["job_id"]))


async def test_retrying_failed_children_moves_their_batch_to_its_real_outcome(
    make_stack,  # type: ignore[no-untyped-def]
) -> None:
    stack = make_stack(LOCAL_PROVIDER_FAIL_ATTEMPTS="99", JOB_MAX_ATTEMPTS="1")
    owner = user()
    body = {"prompts": ["one", "two", "three"], "width": 64, "height": 64}
    async with httpx.AsyncClient(timeout=60) as http:
        response = await http.post(
            f"{stack.gateway_url}/v1/jobs/batch", json=body, headers=auth(owner)
        )
        batch = response.json()
        failed = await wait_for_status(http, batch["status_url"], owner, "failed")
        assert failed["message"] == "3/3 done: 3 failed"
        await restart_image_worker_without_faults(stack)
        first = batch["children"][0]
        one = await http.post(f"{stack.gateway_url}/v1/jobs/{first}/retry", headers=auth(owner))
        assert one.status_code == 202, one.text
        partial = await wait_for_status(http, batch["status_url"], owner, "completed_with_errors")
        assert partial["message"] == "3/3 done: 1 completed, 2 failed"
        rest = await http.post(
            f"{stack.gateway_url}/v1/jobs/{batch['job_id']}/retry", headers=auth(owner)
        )
        assert rest.status_code == 202, rest.text  # one click retries the failed children
        final = await wait_for_status(http, batch["status_url"], owner, "completed")
    assert final["message"] == "3/3 done: 3 completed"
    assert len(final["assets"]) == 3
    assert_one_history(reported(stack, batch["job_id"]))


async def restart_image_worker_without_faults(stack: Stack) -> None:
    stack.stop("image-worker")
    stack.env["LOCAL_PROVIDER_FAIL_ATTEMPTS"] = "0"
    await asyncio.to_thread(stack.start, "image-worker")
