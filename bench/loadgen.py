"""The load generator: a separate process that drives a running stack over HTTP and SSE.

    python -m bench.loadgen submit --jobs 20000 --concurrency 100
    python -m bench.loadgen submit-rate --rate 200 --duration 30
    python -m bench.loadgen e2e --jobs 20000 --concurrency 100
    python -m bench.loadgen sequential --jobs 500
    python -m bench.loadgen progress --jobs 2000 --concurrency 50

Each prints one JSON object. Latencies are in milliseconds. Jobs are no-op jobs: the local
provider's model `noop` (no image work; one stored 64x64 PNG), no step delay; the stack decides
how many progress steps.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from datetime import datetime, timedelta
from typing import Any

import aiohttp
import httpx
from httpx_sse import aconnect_sse

from bench.stats import summary
from darkroom.runtime.auth import TokenService
from darkroom.runtime.settings import DEV_JWT_SECRET

# About 200 bytes of prompt and options, as the benchmark issue asks.
BODY = {
    "prompt": "benchmark job: a lighthouse on a cliff at dusk, soft light, calm sea, "
    "film grain, wide angle, muted palette, high detail",
    "width": 64,
    "height": 64,
    "seed": 7,
    "model": "noop",  # the local provider's model that does no image work (see docs/benchmarks.md)
}


class Client:
    def __init__(self, gateway: str, notifier: str, user: str, concurrency: int) -> None:
        token, _ = TokenService(DEV_JWT_SECRET, "darkroom").issue(user, timedelta(hours=2))
        self.headers = {"Authorization": f"Bearer {token}"}
        self.gateway, self.notifier = gateway, notifier
        # httpx's pool slows to ~140 req/s at 100 connections; aiohttp does the bulk POSTs.
        self.session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency + 4))
        self.http = httpx.AsyncClient(timeout=60)  # SSE streams, through httpx-sse
        self.body = json.dumps(BODY).encode()

    async def submit(self) -> tuple[float, dict[str, Any]]:
        started = time.perf_counter()
        headers = {**self.headers, "Content-Type": "application/json"}
        url = f"{self.gateway}/v1/jobs/image"
        async with self.session.post(url, data=self.body, headers=headers) as response:
            payload = await response.json()
            if response.status != 202:
                raise RuntimeError(f"submit answered {response.status}: {str(payload)[:200]}")
        return (time.perf_counter() - started) * 1000, payload

    async def close(self) -> None:
        await self.session.close()
        await self.http.aclose()


async def closed_loop(client: Client, jobs: int, concurrency: int) -> tuple[list[float], float]:
    """Submit `jobs` with `concurrency` in flight; returns the 202 latencies and the wall time."""
    latencies: list[float] = []
    remaining = iter(range(jobs))

    async def worker() -> None:
        for _ in remaining:
            latencies.append((await client.submit())[0])

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return latencies, time.perf_counter() - started


async def scenario_submit(client: Client, args: argparse.Namespace) -> dict[str, Any]:
    latencies, wall = await closed_loop(client, args.jobs, args.concurrency)
    return {"accepted_per_s": round(args.jobs / wall, 1), **summary(latencies)}


async def scenario_submit_rate(client: Client, args: argparse.Namespace) -> dict[str, Any]:
    """Open loop at a fixed rate; latency counts from the scheduled send time (no coordinated omission)."""
    latencies: list[float] = []
    interval, count = 1 / args.rate, int(args.rate * args.duration)
    start = time.perf_counter()

    async def one(scheduled: float) -> None:
        await client.submit()
        latencies.append((time.perf_counter() - scheduled) * 1000)

    tasks = []
    for i in range(count):
        scheduled = start + i * interval
        await asyncio.sleep(max(0.0, scheduled - time.perf_counter()))
        tasks.append(asyncio.create_task(one(scheduled)))
    await asyncio.gather(*tasks)
    return {"rate": args.rate, "sent": count, **summary(latencies)}


async def listen(client: Client, on_event: Any, ready: asyncio.Event) -> None:
    """Follow the user's SSE stream, calling on_event(type, data, received_at) until cancelled."""
    url = f"{client.notifier}/v1/events"
    async with aconnect_sse(
        client.http, "GET", url, headers=client.headers, timeout=None
    ) as source:
        ready.set()
        async for sse in source.aiter_sse():
            if on_event(sse.event, sse.data, time.time()):
                return


async def until_done_or_stream_ends(
    done: asyncio.Event, listener: asyncio.Task[None], limit_s: float, seen: set[str], jobs: int
) -> None:
    """Wait for every completion; a stream that ends first fails the run instead of hanging it."""
    waiter = asyncio.ensure_future(done.wait())
    await asyncio.wait({waiter, listener}, timeout=limit_s, return_when=asyncio.FIRST_COMPLETED)
    if not done.is_set():
        waiter.cancel()
        why = "the stream ended" if listener.done() else f"timed out after {limit_s:.0f} s"
        raise RuntimeError(f"{why} with {len(seen)} of {jobs} jobs completed")


async def scenario_e2e(client: Client, args: argparse.Namespace) -> dict[str, Any]:
    done, ready, all_done = set[str](), asyncio.Event(), asyncio.Event()

    def on_event(kind: str, data: str, _: float) -> bool:
        if kind == "job.completed":
            done.add(json.loads(data)["job_id"])
            if len(done) >= args.jobs:
                all_done.set()
                return True
        return False

    listener = asyncio.create_task(listen(client, on_event, ready))
    await asyncio.wait_for(ready.wait(), 30)
    started = time.perf_counter()
    _, submit_wall = await closed_loop(client, args.jobs, args.concurrency)
    await until_done_or_stream_ends(all_done, listener, args.timeout, done, args.jobs)
    wall = time.perf_counter() - started
    await listener
    return {
        "completed_per_s": round(args.jobs / wall, 1),
        "total_s": round(wall, 2),
        "submit_s": round(submit_wall, 2),
        "drain_after_last_submit_s": round(wall - submit_wall, 2),
        "completed_seen": len(done),
    }


async def scenario_sequential(client: Client, args: argparse.Namespace) -> dict[str, Any]:
    latencies = []
    for _ in range(args.jobs):
        started = time.perf_counter()
        _, job = await client.submit()
        async with aconnect_sse(
            client.http, "GET", job["events_url"], headers=client.headers
        ) as source:
            async for sse in source.aiter_sse():
                if sse.event in ("job.completed", "job.failed"):
                    break
        latencies.append((time.perf_counter() - started) * 1000)
    return summary(latencies)


async def scenario_progress(client: Client, args: argparse.Namespace) -> dict[str, Any]:
    delays: list[float] = []
    progress, ready, finished = [0], asyncio.Event(), set[str]()
    first_last = [0.0, 0.0]

    def on_event(kind: str, data: str, received: float) -> bool:
        if not kind.startswith("job."):
            return False  # keep-alive pings
        event = json.loads(data)
        if kind == "job.progress":
            progress[0] += 1
            first_last[0] = first_last[0] or received
            first_last[1] = received
            delays.append(
                (received - datetime.fromisoformat(event["occurred_at"]).timestamp()) * 1000
            )
        elif kind == "job.completed":
            finished.add(event["job_id"])
        return len(finished) >= args.jobs

    listener = asyncio.create_task(listen(client, on_event, ready))
    await asyncio.wait_for(ready.wait(), 30)
    await closed_loop(client, args.jobs, args.concurrency)
    await asyncio.wait_for(listener, args.timeout)
    if len(finished) < args.jobs:
        raise RuntimeError(
            f"the stream ended after {len(finished)} of {args.jobs} jobs (it fell behind)"
        )
    span = max(first_last[1] - first_last[0], 1e-9)
    return {
        "progress_events": progress[0],
        "events_per_s": round(progress[0] / span, 1),
        **summary(delays),
    }


SCENARIOS = {
    "submit": scenario_submit,
    "submit-rate": scenario_submit_rate,
    "e2e": scenario_e2e,
    "sequential": scenario_sequential,
    "progress": scenario_progress,
}


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("scenario", choices=sorted(SCENARIOS))
    parser.add_argument("--gateway", default="http://127.0.0.1:8000")
    parser.add_argument("--notifier", default="http://127.0.0.1:8001")
    parser.add_argument("--user", default="bench")
    parser.add_argument("--jobs", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=100)
    parser.add_argument("--rate", type=float, default=200)
    parser.add_argument("--duration", type=float, default=30)
    parser.add_argument("--timeout", type=float, default=600)
    return parser.parse_args(argv)


async def main(argv: list[str] | None = None) -> None:
    args = parse(argv)
    client = Client(args.gateway, args.notifier, args.user, args.concurrency)
    try:
        result = await SCENARIOS[args.scenario](client, args)
    finally:
        await client.close()
    jobs = int(args.rate * args.duration) if args.scenario == "submit-rate" else args.jobs
    sys.stdout.write(json.dumps({"scenario": args.scenario, "jobs": jobs, **result}) + "\n")


if __name__ == "__main__":
    try:
        import uvloop

        uvloop.install()
    except ImportError:  # pragma: no cover
        pass
    asyncio.run(main())
