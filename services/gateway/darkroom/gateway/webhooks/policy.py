"""What an attempt's answer makes of a delivery: pure rules, no I/O.

2xx: delivered. 410 Gone: the receiver is disabled (no more deliveries of the jobs submitted
before it said so). Anything else (an error status, no answer, a refused address): tried again
after an exponential backoff with jitter (at least what a Retry-After asks), until the retry
window that started with the delivery ends; then it failed and is dead-lettered.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from darkroom.contracts.webhooks import DeliveryStatus


@dataclass(frozen=True)
class RetryRules:
    window_s: float
    base_s: float
    max_s: float


class Answer(StrEnum):
    OK = "ok"
    GONE = "gone"
    FAILED = "failed"


def classify(status: int | None) -> Answer:
    """A receiver's HTTP status (None: no answer) as the delivery sees it."""
    if status is not None and 200 <= status < 300:
        return Answer.OK
    if status == 410:
        return Answer.GONE
    return Answer.FAILED


@dataclass(frozen=True)
class Outcome:
    status: DeliveryStatus
    next_attempt_at: datetime | None  # when pending


def backoff_s(attempts: int, rules: RetryRules, jitter: float) -> float:
    """The wait after `attempts` failed attempts: base * 2^(attempts-1), capped, times a jitter
    in [0.5, 1] so that receivers coming back are not hit by every delivery at once."""
    exponent = min(attempts - 1, 30)
    return min(rules.max_s, rules.base_s * 2**exponent) * (0.5 + jitter / 2)


def after_attempt(
    answer: Answer,
    attempts: int,
    created_at: datetime,
    now: datetime,
    rules: RetryRules,
    retry_after_s: float | None = None,
    jitter: float | None = None,
) -> Outcome:
    """The delivery's state after its `attempts`-th attempt was answered with `answer`."""
    if answer is Answer.OK:
        return Outcome(DeliveryStatus.DELIVERED, None)
    if answer is Answer.GONE:
        return Outcome(DeliveryStatus.DISABLED, None)
    wait = backoff_s(attempts, rules, random.random() if jitter is None else jitter)
    if retry_after_s is not None:
        wait = max(wait, retry_after_s)
    next_at = now + timedelta(seconds=wait)
    if next_at > created_at + timedelta(seconds=rules.window_s):
        return Outcome(DeliveryStatus.FAILED, None)
    return Outcome(DeliveryStatus.PENDING, next_at)
