"""`make bench`: every scenario on a fresh embedded stack, repeated, with CPU and memory per process.

    python -m bench.run                 # full suite, 3 runs each (about 15 minutes on 2 cores)
    python -m bench.run --quick         # small sizes, 1 run (a smoke check)
    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test python -m bench.run   # on PostgreSQL

Results: one JSON line per run in bench/results/<date>.jsonl; then bench.report writes
docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.meter import Meter
from bench.stack import BenchStack

RESULTS = Path(__file__).parent / "results"
LINGER_MS = 2  # Darkroom's KAFKA_LINGER_MS default, so the floor uses the same producer settings

# name -> (loadgen arguments, full size, quick size, extra stack environment)
SCENARIOS: dict[str, tuple[list[str], dict[str, int], dict[str, int], dict[str, str]]] = {
    "A_submit": (["submit", "--concurrency", "100"], {"jobs": 20000}, {"jobs": 2000}, {}),
    "A_rate": (["submit-rate", "--rate", "200"], {"duration": 30}, {"duration": 5}, {}),
    "B_e2e": (["e2e", "--concurrency", "100"], {"jobs": 20000}, {"jobs": 2000}, {}),
    "C_sequential": (["sequential"], {"jobs": 500}, {"jobs": 100}, {}),
    "D_progress": (
        ["progress", "--concurrency", "50"],
        {"jobs": 2000},
        {"jobs": 200},
        {"LOCAL_PROVIDER_STEPS": "10"},
    ),
}


def jobs_of(args: list[str], sizes: dict[str, int]) -> int:
    if "jobs" in sizes:
        return sizes["jobs"]
    return int(float(args[args.index("--rate") + 1]) * sizes["duration"])


def loadgen_command(stack: BenchStack, args: list[str], sizes: dict[str, int]) -> list[str]:
    extra = [f"--{key}={value}" for key, value in sizes.items()]
    extra.append(f"--timeout={max(600, sizes.get('jobs', 0) // 10)}")
    return [
        sys.executable,
        "-m",
        "bench.loadgen",
        *args,
        *extra,
        f"--gateway={stack.gateway_url}",
        f"--notifier={stack.notifier_url}",
        "--user=bench",
    ]


def run_scenario(
    name: str, quick: bool, database_url: str | None, size: int | None = None
) -> dict[str, Any]:
    args, full, small, env = SCENARIOS[name]
    sizes = small if quick else full
    if size is not None:
        sizes = {next(iter(sizes)): size}
    with (
        tempfile.TemporaryDirectory(prefix="darkroom-bench-") as workdir,
        BenchStack(Path(workdir), database_url, env) as stack,
    ):
        stack.warm_up()
        meter = Meter(stack.pids())
        load_before = os.getloadavg()
        meter.start()
        result, loadgen_cpu = run_loadgen(loadgen_command(stack, args, sizes))
        usage = meter.stop()
        usage["cpu_s"]["loadgen"] = loadgen_cpu
        if name == "B_e2e":
            result["completed_in_database"] = stack.count_completed("bench")
    jobs = jobs_of(args, sizes)
    per_1000 = {p: round(cpu * 1000 / jobs, 3) for p, cpu in usage["cpu_s"].items()}
    return {
        "scenario": name,
        "result": result,
        "jobs": jobs,
        "cpu_s_per_1000_jobs": per_1000,
        "peak_rss_mb": usage["peak_rss_mb"],
        "loadavg_before": [round(x, 2) for x in load_before],
    }


def run_loadgen(command: list[str]) -> tuple[dict[str, Any], float]:
    """Run the load generator as its own process; returns its JSON result and its CPU seconds."""
    before = os.times()
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    after = os.times()
    if done.returncode != 0:
        raise RuntimeError(f"load generator failed:\n{done.stderr[-3000:]}")
    cpu = (after.children_user - before.children_user) + (
        after.children_system - before.children_system
    )
    return json.loads(done.stdout.strip().splitlines()[-1]), round(cpu, 2)


def run_floor(quick: bool) -> dict[str, Any]:
    jobs = 2000 if quick else 20000
    with (
        tempfile.TemporaryDirectory(prefix="darkroom-floor-") as workdir,
        BenchStack(Path(workdir), None, {}, services=()) as stack,
    ):
        command = [
            sys.executable,
            "-m",
            "bench.floor",
            f"--bootstrap={stack.kafka}",
            f"--jobs={jobs}",
            f"--broker-pid={stack.broker.proc.pid}",
            "--json",
        ]
        done = subprocess.run(command, capture_output=True, text=True, check=True)
    lines = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    return {"scenario": "floor", "result": {line["scenario"]: line for line in lines}, "jobs": jobs}


def run_one(name: str, quick: bool, database_url: str | None, size: int | None) -> dict[str, Any]:
    if name == "floor":
        return run_floor(quick)
    return run_scenario(name, quick, database_url, size)


def run_or_error(
    name: str, quick: bool, database_url: str | None, size: int | None
) -> dict[str, Any]:
    try:
        return run_one(name, quick, database_url, size)
    except Exception as exc:  # a failed scenario is recorded; the suite goes on
        return {"scenario": name, "error": f"{type(exc).__name__}: {exc}"[-2000:], "result": {}}


def conditions(database_url: str | None) -> dict[str, Any]:
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
    ).stdout.strip()
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "commit": commit or "unknown",
        "cores": os.cpu_count(),
        "python": sys.version.split()[0],
        "database": "postgresql" if database_url else "sqlite",
        "run_id": uuid.uuid4().hex[:8],
    }


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="small sizes, one run each")
    parser.add_argument(
        "--repeat", type=int, default=None, help="runs per scenario (3; 1 with --quick)"
    )
    parser.add_argument(
        "--only", default=",".join([*SCENARIOS, "floor"]), help="comma-separated scenarios"
    )
    parser.add_argument(
        "--size",
        action="append",
        default=[],
        metavar="SCENARIO=N",
        help="override a scenario's size (jobs, or seconds for A_rate), e.g. B_e2e=5000",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> Path:
    args = parse_args(argv)
    database_url = os.environ.get("DATABASE_URL") or None
    repeat = args.repeat or (1 if args.quick else 3)
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"{datetime.now(UTC):%Y%m%dT%H%M%S}{'-quick' if args.quick else ''}.jsonl"
    base = conditions(database_url) | {"quick": args.quick}
    sizes = {k: int(v) for k, v in (item.split("=", 1) for item in args.size)}
    for name in args.only.split(","):
        for run in range(1, repeat + 1):
            started = time.perf_counter()
            record = run_or_error(name, args.quick, database_url, sizes.get(name))
            record |= base | {"run": run, "seconds": round(time.perf_counter() - started, 1)}
            with out.open("a") as f:
                f.write(json.dumps(record) + "\n")
            print(f"{name} run {run}: {json.dumps(record['result'])[:300]}", flush=True)
    return out


if __name__ == "__main__":
    main()
