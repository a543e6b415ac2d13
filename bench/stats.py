"""Percentile summaries, the same way in every scenario."""

from __future__ import annotations

import statistics


def percentile(values: list[float], q: int) -> float:
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def summary(latencies_ms: list[float]) -> dict[str, float]:
    """p50/p95/p99/min/max in milliseconds, rounded to 0.1."""
    if not latencies_ms:
        return {}
    return {
        "p50_ms": round(percentile(latencies_ms, 50), 1),
        "p95_ms": round(percentile(latencies_ms, 95), 1),
        "p99_ms": round(percentile(latencies_ms, 99), 1),
        "min_ms": round(min(latencies_ms), 1),
        "max_ms": round(max(latencies_ms), 1),
    }


def spread(values: list[float]) -> dict[str, float]:
    """Median, min and max of one figure over repeated runs."""
    return {
        "median": round(statistics.median(values), 1),
        "min": round(min(values), 1),
        "max": round(max(values), 1),
    }
