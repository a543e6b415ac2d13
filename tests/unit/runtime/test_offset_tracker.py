"""Commit points while records of one partition finish out of order."""

from darkroom.runtime.worker.offsets import OffsetTracker


def test_nothing_is_committed_before_a_record_finishes() -> None:
    offsets: OffsetTracker[str] = OffsetTracker()
    offsets.start("p0", 0)
    offsets.start("p0", 1)
    assert offsets.to_commit() == {}


def test_a_later_record_finishing_first_does_not_move_the_commit_past_a_running_one() -> None:
    offsets: OffsetTracker[str] = OffsetTracker()
    for offset in (5, 6, 7):
        offsets.start("p0", offset)
    offsets.finish("p0", 7)
    offsets.finish("p0", 6)
    assert offsets.to_commit() == {"p0": 5}  # 5 is still running: it must be read again
    offsets.finish("p0", 5)
    assert offsets.to_commit() == {"p0": 8}


def test_partitions_are_tracked_apart() -> None:
    offsets: OffsetTracker[str] = OffsetTracker()
    offsets.start("p0", 10)
    offsets.start("p1", 3)
    offsets.finish("p1", 3)
    assert offsets.to_commit() == {"p0": 10, "p1": 4}
    assert offsets.in_flight() == 1
    assert offsets.in_flight("p1") == 0


def test_a_commit_point_is_handed_out_once_until_it_moves() -> None:
    offsets: OffsetTracker[str] = OffsetTracker()
    offsets.start("p0", 1)
    offsets.finish("p0", 1)
    offsets.committed(offsets.to_commit())
    assert offsets.to_commit() == {}
    offsets.start("p0", 2)
    offsets.finish("p0", 2)
    assert offsets.to_commit() == {"p0": 3}


def test_a_failed_commit_is_handed_out_again() -> None:
    offsets: OffsetTracker[str] = OffsetTracker()
    offsets.start("p0", 0)
    offsets.finish("p0", 0)
    assert offsets.to_commit() == {"p0": 1}
    assert offsets.to_commit() == {"p0": 1}  # not marked committed: still due


def test_a_revoked_partition_is_forgotten_and_late_finishes_are_ignored() -> None:
    offsets: OffsetTracker[str] = OffsetTracker()
    offsets.start("p0", 4)
    offsets.forget(["p0"])
    offsets.finish("p0", 4)
    assert offsets.to_commit() == {}
    assert offsets.in_flight() == 0
