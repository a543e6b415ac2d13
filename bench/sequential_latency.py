"""Submit N one-image 64x64 jobs one after another against a running stack; time submit -> SSE job.completed.

    .venv/bin/python bench/sequential_latency.py --jobs 100     # against `make run` (set LOCAL_PROVIDER_STEP_DELAY_S=0)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from datetime import timedelta

import httpx
from httpx_sse import aconnect_sse

from darkroom.runtime.auth import TokenService
from darkroom.runtime.settings import DEV_JWT_SECRET


async def one_job(http: httpx.AsyncClient, gateway: str, headers: dict[str, str]) -> float:
    started = time.perf_counter()
    body = {"prompt": "benchmark: a small test card", "width": 64, "height": 64, "seed": 1}
    response = await http.post(f"{gateway}/v1/jobs/image", json=body, headers=headers)
    response.raise_for_status()
    async with aconnect_sse(http, "GET", response.json()["events_url"], headers=headers) as source:
        async for sse in source.aiter_sse():
            if sse.event == "job.completed":
                return (time.perf_counter() - started) * 1000
            if sse.event == "job.failed":
                raise RuntimeError(sse.data)
    raise RuntimeError("stream closed without a terminal event")


def percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=100)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--gateway", default="http://127.0.0.1:8000")
    parser.add_argument("--secret", default=DEV_JWT_SECRET)
    args = parser.parse_args()
    token, _ = TokenService(args.secret, "darkroom").issue("bench", timedelta(hours=1))
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(timeout=60) as http:
        for _ in range(args.warmup):
            await one_job(http, args.gateway, headers)
        latencies = [await one_job(http, args.gateway, headers) for _ in range(args.jobs)]
    result = {
        "scenario": "sequential submit -> sse job.completed, 64x64, 1 image",
        "jobs": args.jobs,
        "p50_ms": round(percentile(latencies, 50), 1),
        "p95_ms": round(percentile(latencies, 95), 1),
        "p99_ms": round(percentile(latencies, 99), 1),
        "min_ms": round(min(latencies), 1),
        "max_ms": round(max(latencies), 1),
    }
    sys.stdout.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    asyncio.run(main())
