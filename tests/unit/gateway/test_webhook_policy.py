"""The webhook retry rules: 2xx delivers, 410 disables, anything else is tried again after an
exponential backoff with jitter (at least what Retry-After asks) until the window ends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from darkroom.contracts.webhooks import DeliveryStatus
from darkroom.gateway.webhooks.policy import Answer, RetryRules, after_attempt, backoff_s, classify
from darkroom.media.post import retry_after

RULES = RetryRules(window_s=86400, base_s=5, max_s=3600)
START = datetime(2026, 12, 8, 3, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("status", "answer"),
    [(200, Answer.OK), (204, Answer.OK), (410, Answer.GONE), (404, Answer.FAILED),
     (301, Answer.FAILED), (500, Answer.FAILED), (429, Answer.FAILED), (None, Answer.FAILED)],
)  # fmt: skip
def test_only_a_2xx_delivers_and_only_a_410_disables(status: int | None, answer: Answer) -> None:
    assert classify(status) is answer


def test_the_wait_doubles_from_the_base_up_to_the_cap_and_jitter_takes_up_to_half() -> None:
    assert [backoff_s(n, RULES, jitter=1.0) for n in (1, 2, 3, 4)] == [5, 10, 20, 40]
    assert backoff_s(1, RULES, jitter=0.0) == 2.5
    assert backoff_s(20, RULES, jitter=1.0) == 3600
    assert backoff_s(10_000, RULES, jitter=1.0) == 3600  # no overflow after many attempts


def test_a_failed_attempt_is_tried_again_no_sooner_than_retry_after_asks() -> None:
    now = START + timedelta(minutes=1)
    soon = after_attempt(Answer.FAILED, 1, START, now, RULES, jitter=1.0)
    assert soon == after_attempt(Answer.FAILED, 1, START, now, RULES, None, 1.0)
    assert (soon.status, soon.next_attempt_at) == (
        DeliveryStatus.PENDING, now + timedelta(seconds=5)
    )  # fmt: skip
    later = after_attempt(Answer.FAILED, 1, START, now, RULES, retry_after_s=120, jitter=1.0)
    assert later.next_attempt_at == now + timedelta(seconds=120)


def test_the_delivery_fails_once_its_next_attempt_would_fall_after_the_window() -> None:
    inside = START + timedelta(hours=23)
    assert after_attempt(Answer.FAILED, 12, START, inside, RULES, jitter=0.0).status is (
        DeliveryStatus.PENDING
    )  # 23 h + 30 min
    late = START + timedelta(hours=23, minutes=50)
    outcome = after_attempt(Answer.FAILED, 12, START, late, RULES, jitter=1.0)
    assert (outcome.status, outcome.next_attempt_at) == (DeliveryStatus.FAILED, None)


def test_ok_and_gone_end_the_delivery_whatever_the_attempt() -> None:
    late = START + timedelta(days=3)
    assert after_attempt(Answer.OK, 40, START, late, RULES).status is DeliveryStatus.DELIVERED
    assert after_attempt(Answer.GONE, 1, START, START, RULES).status is DeliveryStatus.DISABLED


def test_retry_after_is_read_as_seconds_or_as_an_http_date() -> None:
    now = datetime(2026, 12, 8, 3, 0, tzinfo=UTC)
    assert retry_after(httpx.Headers({"retry-after": "30"}), now) == 30
    date = httpx.Headers({"retry-after": "Tue, 08 Dec 2026 03:02:00 GMT"})
    assert retry_after(date, now) == 120
    assert retry_after(httpx.Headers({"retry-after": "soon"}), now) is None
    assert retry_after(httpx.Headers(), now) is None
