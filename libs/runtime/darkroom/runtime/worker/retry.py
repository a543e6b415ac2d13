"""A job type's retry policy: how many attempts, how long between them, how long each may run."""

from __future__ import annotations

import random
from dataclasses import dataclass

JITTER = 0.2  # each delay is spread by ±20 %, so jobs that failed together do not retry together


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 3
    base_delay_s: float = 2.0
    max_delay_s: float = 300.0
    timeout_s: float = 300.0
    heartbeat_s: float = 15.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if self.base_delay_s < 0 or self.max_delay_s < self.base_delay_s:
            raise ValueError("delays must satisfy 0 <= base_delay_s <= max_delay_s")
        if self.timeout_s <= 0:
            raise ValueError("timeout_s must be positive")

    def retries_after(self, attempt: int, series_start: int = 1) -> bool:
        """Whether a retryable failure of `attempt` gets another attempt; attempts count from the
        first of their series (a failed job sent back to the queue has its budget anew)."""
        return attempt - series_start + 1 < self.max_attempts

    def delay_before(self, attempt: int, series_start: int = 1) -> float:
        """Seconds to wait before `attempt` (the 2nd, 3rd, … of its series): the base delay,
        doubling, capped, jittered."""
        nth = attempt - series_start + 1
        delay = min(self.max_delay_s, self.base_delay_s * 2 ** max(0, nth - 2))
        return delay * random.uniform(1 - JITTER, 1 + JITTER)
