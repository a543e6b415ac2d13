"""Weighted turns between priority topics: order, shares, no starvation."""

from collections import Counter

import pytest

from darkroom.runtime.worker.priority import WeightedTurns

WEIGHTS = {"high": 6, "normal": 3, "low": 1}


def test_with_every_priority_waiting_ten_starts_follow_the_weights() -> None:
    turns = WeightedTurns(WEIGHTS)

    picks = [turns.pick(WEIGHTS) for _ in range(10)]

    assert Counter(picks) == {"high": 6, "normal": 3, "low": 1}
    assert picks[0] == "high"


def test_a_low_job_waits_at_most_one_round_behind_a_backlog_of_high_and_normal() -> None:
    turns = WeightedTurns(WEIGHTS)

    picks = [turns.pick(WEIGHTS) for _ in range(100)]
    lows = [i for i, p in enumerate(picks) if p == "low"]

    assert len(lows) == 10
    assert max(b - a for a, b in zip([-1, *lows], lows, strict=False)) <= 10


def test_only_waiting_topics_take_turns_and_an_idle_one_builds_no_credit() -> None:
    turns = WeightedTurns(WEIGHTS)
    for _ in range(50):
        assert turns.pick(["low"]) == "low"

    picks = [turns.pick(WEIGHTS) for _ in range(10)]

    assert Counter(picks)["low"] == 1  # no burst of low starts after it had the machine alone


def test_weights_below_one_are_refused() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        WeightedTurns({"high": 0})
