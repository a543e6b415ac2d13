"""The floor: Darkroom's benchmark scenarios done with raw aiokafka against the same broker.

    python -m bench.floor --bootstrap 127.0.0.1:9092 --jobs 20000 --json [--broker-pid PID]

No HTTP, no database, no SSE: the producer, the worker and the listener are asyncio tasks of
this one process, so the only hops are to the broker and back. Every Darkroom figure is read as
a fraction of these.

- A_floor: `jobs` requests, at most 100 un-acked at a time (100 client coroutines, each doing
  send + await ack, like 100 HTTP clients) -> accepted/s and ack latency.
- B_floor: `jobs` requests produced as fast as possible; the worker turns each into a completed
  event; the listener counts them -> completed jobs/s from first produce to last completion.
- C_floor: min(500, jobs) sequential round trips: produce one request, wait until the listener
  sees its completed event -> latency percentiles.

The worker and listener run in every scenario (as the stack's do); each scenario has its own
uuid-suffixed topics, and the clock starts only once the worker's group join is done.
`cpu_s` is this process's CPU time (user + system) during the measured part; `broker_cpu_s`
the broker's, when its pid is given.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field

import psutil
from aiokafka import AIOKafkaProducer

from bench.kafka_roles import (
    Listener,
    Worker,
    create_topics,
    delete_topics,
    make_producer,
    request_value,
    wait_or_fail,
)
from bench.stats import summary

logger = logging.getLogger(__name__)

SCENARIOS = ("A_floor", "B_floor", "C_floor")
CONCURRENCY = 100
SEQUENTIAL_ROUNDS = 500
JOIN_TIMEOUT_S = 30.0
ROUND_TIMEOUT_S = 10.0
EVENT_EXTRA_BYTES = 100  # a completed event is ~300 bytes for a ~200-byte request


@dataclass(frozen=True)
class Options:
    payload_bytes: int = 200
    linger_ms: int = 5
    fetch_max_wait_ms: int = 20


@dataclass
class Stage:
    """One scenario's topics, request producer and running worker and listener tasks."""

    requests: str
    producer: AIOKafkaProducer
    listener: Listener
    options: Options
    tasks: list[asyncio.Task] = field(default_factory=list)

    async def send(self, job_id: str | None = None) -> tuple[bytes, asyncio.Future]:
        """Produce one request (a new job id by default); returns its key and its ack future."""
        job_id = job_id or str(uuid.uuid4())
        value = request_value(job_id, self.options.payload_bytes)
        key = job_id.encode()
        return key, await self.producer.send(self.requests, value, key=key)


@asynccontextmanager
async def stage(bootstrap: str, name: str, options: Options) -> AsyncIterator[Stage]:
    """Fresh topics, listener at the beginning of the events topic, worker with partitions."""
    suffix = uuid.uuid4().hex[:8]
    requests, events = f"floor-{name}-requests-{suffix}", f"floor-{name}-events-{suffix}"
    await create_topics(bootstrap, [requests, events])
    async with AsyncExitStack() as stack:
        stack.push_async_callback(delete_topics, bootstrap, [requests, events])
        listener = Listener(bootstrap, events, options.fetch_max_wait_ms)
        stack.push_async_callback(listener.consumer.stop)
        await listener.start()
        worker_options = {
            "event_bytes": options.payload_bytes + EVENT_EXTRA_BYTES,
            "linger_ms": options.linger_ms,
            "fetch_max_wait_ms": options.fetch_max_wait_ms,
        }
        worker = Worker(bootstrap, (requests, events), f"floor-worker-{suffix}", worker_options)
        stack.push_async_callback(worker.stop)
        await worker.start()
        producer = make_producer(bootstrap, options.linger_ms)
        stack.push_async_callback(producer.stop)
        await producer.start()
        st = Stage(requests, producer, listener, options)
        stack.push_async_callback(cancel_all, st.tasks)
        st.tasks += [asyncio.create_task(listener.run(), name="listener")]
        st.tasks += [asyncio.create_task(worker.run(), name="worker")]
        await wait_or_fail(worker.assigned.event.wait(), st.tasks, JOIN_TIMEOUT_S, "worker join")
        yield st


async def cancel_all(tasks: list[asyncio.Task]) -> None:
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


async def scenario_a(st: Stage, jobs: int, limit_s: float) -> dict[str, float]:
    """Closed loop of 100 clients, each sending one request and awaiting its ack at a time."""
    tickets = iter(range(jobs))
    latencies: list[float] = []

    async def client() -> None:
        for _ in tickets:
            started = time.perf_counter()
            _, ack = await st.send()
            await ack
            latencies.append((time.perf_counter() - started) * 1000)

    started = time.perf_counter()
    clients = asyncio.gather(*(client() for _ in range(CONCURRENCY)))
    await wait_or_fail(clients, st.tasks, limit_s, "A_floor submit")
    elapsed = time.perf_counter() - started
    figures = {"accepted_per_s": round(jobs / elapsed, 1), "elapsed_s": round(elapsed, 3)}
    return figures | summary(latencies) | {"concurrency": CONCURRENCY}


async def scenario_b(st: Stage, jobs: int, limit_s: float) -> dict[str, float]:
    """Everything produced at once; the clock stops when the listener has seen every completion."""
    st.listener.expect_count(len(st.listener.seen) + jobs)
    started = time.perf_counter()
    acks = [(await st.send())[1] for _ in range(jobs)]
    await wait_or_fail(asyncio.gather(*acks), st.tasks, limit_s, "B_floor produce")
    acked = time.perf_counter()
    await wait_or_fail(st.listener.reached.wait(), st.tasks, limit_s, "B_floor completions")
    done = st.listener.reached_at
    return {
        "completed_per_s": round(jobs / (done - started), 1),
        "produced_per_s": round(jobs / (acked - started), 1),
        "produce_s": round(acked - started, 3),
        "drain_s": round(max(0.0, done - acked), 3),
        "total_s": round(done - started, 3),
    }


async def scenario_c(st: Stage, jobs: int, limit_s: float) -> dict[str, float]:
    """One job at a time: the latency from produce to the listener seeing the completion."""
    rounds = min(SEQUENTIAL_ROUNDS, jobs)
    latencies: list[float] = []
    for n in range(rounds):
        job_id = str(uuid.uuid4())
        seen = st.listener.expect(job_id.encode())
        started = time.perf_counter()
        _, ack = await st.send(job_id)
        both = asyncio.gather(ack, seen)
        await wait_or_fail(both, st.tasks, ROUND_TIMEOUT_S, f"C_floor round trip {n}")
        latencies.append((seen.result() - started) * 1000)
    return {"rounds": rounds} | summary(latencies)


Scenario = Callable[[Stage, int, float], Awaitable[dict[str, float]]]
RUNNERS: dict[str, Scenario] = {"A_floor": scenario_a, "B_floor": scenario_b, "C_floor": scenario_c}


class CpuClock:
    """CPU seconds (user + system) of this process and, if known, of the broker."""

    def __init__(self, broker_pid: int | None) -> None:
        self.processes = {"cpu_s": psutil.Process()}
        if broker_pid is not None:
            self.processes["broker_cpu_s"] = psutil.Process(broker_pid)
        self.before: dict[str, float] = {}

    @staticmethod
    def _cpu(process: psutil.Process) -> float:
        times = process.cpu_times()
        return float(times.user + times.system)

    def start(self) -> None:
        self.before = {name: self._cpu(p) for name, p in self.processes.items()}

    def stop(self) -> dict[str, float]:
        return {n: round(self._cpu(p) - self.before[n], 3) for n, p in self.processes.items()}


async def run_floor(
    bootstrap: str,
    jobs: int,
    payload_bytes: int = 200,
    *,
    linger_ms: int = 5,
    fetch_max_wait_ms: int = 20,
    broker_pid: int | None = None,
    scenarios: tuple[str, ...] = SCENARIOS,
) -> dict[str, dict[str, float]]:
    """Run the floor scenarios; returns {scenario name: {figure: number}}."""
    if jobs < 1 or payload_bytes < 0:
        raise ValueError("jobs must be at least 1 and payload_bytes not negative")
    options = Options(payload_bytes, linger_ms, fetch_max_wait_ms)
    limit_s = 60.0 + jobs / 500
    clock = CpuClock(broker_pid)
    results: dict[str, dict[str, float]] = {}
    for name in scenarios:
        async with stage(bootstrap, name, options) as st:
            load = {"loadavg_1m": round(os.getloadavg()[0], 2)}  # others sharing the cores
            clock.start()
            figures = await RUNNERS[name](st, jobs, limit_s)
            usage = clock.stop()
        logger.info("%s done: %s", name, figures)
        settings = {"payload_bytes": payload_bytes, "linger_ms": linger_ms}
        fetch = {"fetch_max_wait_ms": fetch_max_wait_ms}
        results[name] = {"jobs": jobs} | figures | usage | load | settings | fetch
    return results


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--bootstrap", required=True, help="host:port of the broker")
    parser.add_argument("--jobs", type=int, default=20000)
    parser.add_argument("--payload-bytes", type=int, default=200)
    parser.add_argument("--linger-ms", type=int, default=5)
    parser.add_argument("--fetch-max-wait-ms", type=int, default=20)
    parser.add_argument("--broker-pid", type=int, default=None, help="to report broker CPU")
    parser.add_argument("--scenarios", default=",".join(SCENARIOS), help="comma-separated")
    parser.add_argument("--json", action="store_true", help="one JSON object per scenario")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    results = asyncio.run(
        run_floor(
            args.bootstrap,
            args.jobs,
            args.payload_bytes,
            linger_ms=args.linger_ms,
            fetch_max_wait_ms=args.fetch_max_wait_ms,
            broker_pid=args.broker_pid,
            scenarios=tuple(args.scenarios.split(",")),
        )
    )
    for name, figures in results.items():
        if args.json:
            print(json.dumps({"scenario": name} | figures), flush=True)
        else:
            print(name, " ".join(f"{k}={v}" for k, v in figures.items()), flush=True)


if __name__ == "__main__":
    main()
