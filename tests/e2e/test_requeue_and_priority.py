"""A failed job sent back to the queue (API and dead-letter command line), and priorities with a
backlog, through real processes."""

from __future__ import annotations

import asyncio
import subprocess
import uuid

import httpx
import pytest

from darkroom.runtime.embedded.stack import BIN, Stack
from tests.e2e.client import follow, submit, wait_for_status
from tests.fixtures.tokens import auth

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(180)]

# Every job's first three attempts fail (retryable), which spends the budget of JOB_MAX_ATTEMPTS=3:
# the job fails and is dead-lettered; a new series (attempt 4) then succeeds.
FAILS_ONE_SERIES = {
    "LOCAL_PROVIDER_FAIL_ATTEMPTS": "3",
    "JOB_MAX_ATTEMPTS": "3",
    "JOB_RETRY_BASE_DELAY_S": "0.1",
}


def user() -> str:
    return f"u-{uuid.uuid4().hex[:8]}"


def dead_letters(stack: Stack, *args: str) -> str:
    done = subprocess.run(
        [str(BIN / "darkroom-dead-letters"), *args],
        env=stack.env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


async def test_a_failed_job_retried_through_the_api_runs_again_as_the_same_job_and_completes(
    make_stack,  # type: ignore[no-untyped-def]
) -> None:
    stack = make_stack(**FAILS_ONE_SERIES)
    owner = user()
    async with httpx.AsyncClient(timeout=30) as http:
        job = await submit(http, stack.gateway_url, owner, width=64, height=64)
        await wait_for_status(http, job["status_url"], owner, "failed")
        retry_url = f"{job['status_url']}/retry"
        strangers = await http.post(retry_url, headers=auth(user()))
        retried = await http.post(retry_url, headers=auth(owner))
        twice = await http.post(retry_url, headers=auth(owner))
        final = await wait_for_status(http, job["status_url"], owner, "completed")
        events = await follow(http, job["events_url"], auth(owner))  # the whole story, replayed
        refused = await http.post(retry_url, headers=auth(owner))

    assert strangers.status_code == 404
    assert retried.status_code == 202, retried.text
    assert retried.json()["job_id"] == job["job_id"]
    assert twice.status_code == 409 and "only a failed job" in twice.json()["detail"]
    kinds = [e.event for e in events]
    assert kinds.count("job.failed") == 1 and kinds.count("job.requeued") == 1
    assert kinds.index("job.failed") < kinds.index("job.requeued")
    assert kinds[-1] == "job.completed"  # the stream went past the earlier failure
    requeued = next(e.data for e in events if e.event == "job.requeued")
    assert (requeued["attempt"], requeued["requested_by"]) == (4, owner)
    assert [int(e.id) for e in events] == list(range(1, len(events) + 1))
    assert final["attempts"] == 4 and final["error"] is None and len(final["assets"]) == 1
    assert refused.status_code == 409 and "completed" in refused.json()["detail"]


async def test_dead_letters_replayed_from_the_command_line_run_their_failed_jobs_again(
    make_stack,  # type: ignore[no-untyped-def]
) -> None:
    stack = make_stack(**FAILS_ONE_SERIES)
    owner = user()
    async with httpx.AsyncClient(timeout=30) as http:
        jobs = [await submit(http, stack.gateway_url, owner, width=64, height=64) for _ in range(2)]
        for job in jobs:
            await wait_for_status(http, job["status_url"], owner, "failed")
        await asyncio.sleep(1)  # the dead letter follows the failed event

        listed = await asyncio.to_thread(dead_letters, stack, "list")
        planned = await asyncio.to_thread(dead_letters, stack, "replay", "--dry-run")
        replayed = await asyncio.to_thread(dead_letters, stack, "replay")
        finals = [
            await wait_for_status(http, job["status_url"], owner, "completed") for job in jobs
        ]
        again = await asyncio.to_thread(dead_letters, stack, "replay")

    assert "2 dead letter(s)" in listed
    assert all(job["job_id"] in listed for job in jobs)
    assert "provider_unavailable after 3 attempt(s)" in listed
    assert planned.count("would queue job") == 2
    assert replayed.count("queued job") == 2
    assert all(f["attempts"] == 4 for f in finals)
    assert again.count("is completed, not failed") == 2  # a second replay changes nothing


async def test_with_a_backlog_high_priority_jobs_start_first_and_low_ones_still_progress(
    make_stack,  # type: ignore[no-untyped-def]
) -> None:
    stack = make_stack(WORKER_CONCURRENCY="1", LOCAL_PROVIDER_STEP_DELAY_S="0.02")
    owner = user()
    stack.stop("image-worker")  # the backlog builds while no worker runs
    async with httpx.AsyncClient(timeout=30) as http:
        jobs = {
            priority: [
                await submit(http, stack.gateway_url, owner, width=64, height=64, priority=priority)
                for _ in range(8)
            ]
            for priority in ("low", "normal", "high")  # submitted lowest first
        }
        await asyncio.sleep(1)  # the relay has published every request
        await asyncio.to_thread(stack.start, "image-worker")
        views = {
            priority: [
                await wait_for_status(http, job["status_url"], owner, "completed", timeout_s=90)
                for job in submitted
            ]
            for priority, submitted in jobs.items()
        }

    order = sorted(
        (view["started_at"], priority) for priority, done in views.items() for view in done
    )
    started = [priority for _, priority in order]

    def mean_start(priority: str) -> float:
        return sum(i for i, p in enumerate(started) if p == priority) / 8

    assert mean_start("high") < mean_start("normal") < mean_start("low"), started
    assert started[:8].count("high") >= 4, started  # most of the first starts are high
    assert "low" in started[:12], started  # low is not starved until the others drain
    assert all(v["priority"] == p for p, done in views.items() for v in done)
