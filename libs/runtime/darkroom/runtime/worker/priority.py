"""Which waiting record starts next when several topics (priorities) have some: weighted turns.

Smooth weighted round robin, as nginx balances its upstreams: with weights high 6, normal 3,
low 1 and all three waiting, ten starts go H N H H N H L H N H. Only topics with something
waiting take part, so a topic that was idle builds up no credit, and every waiting topic gets
its share: a low job waits at most about (sum of weights / its weight) starts.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping


class WeightedTurns:
    def __init__(self, weights: Mapping[str, int]) -> None:
        if any(w < 1 for w in weights.values()):
            raise ValueError("weights must be at least 1")
        self._weights = dict(weights)
        self._order = {name: i for i, name in enumerate(weights)}  # ties go to the first named
        self._credit = dict.fromkeys(weights, 0)

    def pick(self, waiting: Collection[str]) -> str:
        """The topic whose record starts next, among those with records waiting."""
        if not waiting:
            raise ValueError("nothing is waiting")
        total = 0
        for name in waiting:
            self._credit[name] += self._weights[name]
            total += self._weights[name]
        chosen = max(waiting, key=lambda name: (self._credit[name], -self._order[name]))
        self._credit[chosen] -= total
        return chosen
