"""Which offset of each partition may be committed while records finish out of order.

A worker runs several records of one partition at once, so record 7 may finish before record
5. Committing 8 then would lose 5 and 6 if the process died: the commit point of a partition is
its lowest unfinished offset, or one past the highest finished offset when nothing is running.
Pure bookkeeping, no I/O: the consumer calls it from one event loop.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field
from typing import Generic, TypeVar

P = TypeVar("P")


@dataclass
class _Partition:
    running: list[int] = field(default_factory=list)  # a heap of started, unfinished offsets
    finished: set[int] = field(default_factory=set)  # finished offsets above the lowest running
    next_offset: int = -1  # one past the highest offset started
    committed: int = -1  # the last commit point handed out


class OffsetTracker(Generic[P]):
    """Per partition: offsets started, offsets finished, and the commit point they allow."""

    def __init__(self) -> None:
        self._partitions: dict[P, _Partition] = {}

    def start(self, partition: P, offset: int) -> None:
        state = self._partitions.setdefault(partition, _Partition())
        heapq.heappush(state.running, offset)
        state.next_offset = max(state.next_offset, offset + 1)

    def finish(self, partition: P, offset: int) -> None:
        """Mark a started offset finished; unknown partitions (revoked meanwhile) are ignored."""
        state = self._partitions.get(partition)
        if state is not None:
            state.finished.add(offset)
            while state.running and state.running[0] in state.finished:
                state.finished.discard(heapq.heappop(state.running))

    def in_flight(self, partition: P | None = None) -> int:
        """Records started and not finished, of one partition or of all."""
        if partition is not None:
            state = self._partitions.get(partition)
            return 0 if state is None else len(state.running)
        return sum(len(s.running) for s in self._partitions.values())

    def commit_point(self, partition: P) -> int | None:
        """The offset to commit for a partition (the next record to read), if any record finished."""
        state = self._partitions.get(partition)
        if state is None or state.next_offset < 0:
            return None
        point = state.running[0] if state.running else state.next_offset
        return point if point > 0 else None

    def to_commit(self) -> dict[P, int]:
        """Commit points that moved since the last call (and are marked as handed out)."""
        moved = {}
        for partition, state in self._partitions.items():
            point = self.commit_point(partition)
            if point is not None and point > state.committed:
                moved[partition] = point
        return moved

    def committed(self, offsets: dict[P, int]) -> None:
        """Record that these commit points reached the broker."""
        for partition, point in offsets.items():
            state = self._partitions.get(partition)
            if state is not None:
                state.committed = max(state.committed, point)

    def forget(self, partitions: list[P]) -> None:
        """Drop revoked partitions: their records belong to the next owner now."""
        for partition in partitions:
            self._partitions.pop(partition, None)
