"""Group commit: concurrent submits share transactions, and each caller waits for its own."""

import asyncio

import pytest

from darkroom.runtime.db.group_commit import GroupCommit


class Recorder:
    def __init__(self, fail_on: int | None = None) -> None:
        self.batches: list[list[int]] = []
        self.fail_on = fail_on
        self.gate = asyncio.Event()

    async def write(self, batch: list[int]) -> None:
        self.batches.append(batch)
        await self.gate.wait()
        if self.fail_on is not None and self.fail_on in batch:
            raise RuntimeError("disk full")


async def test_submits_arriving_during_a_write_share_the_next_transaction() -> None:
    recorder = Recorder()
    group: GroupCommit[int] = GroupCommit(recorder.write)
    first = asyncio.create_task(group.submit(0))
    await asyncio.sleep(0)
    rest = [asyncio.create_task(group.submit(i)) for i in range(1, 6)]
    await asyncio.sleep(0)
    recorder.gate.set()
    await asyncio.gather(first, *rest)
    assert recorder.batches == [[0], [1, 2, 3, 4, 5]]


async def test_no_caller_returns_before_its_batch_is_written() -> None:
    recorder = Recorder()
    group: GroupCommit[int] = GroupCommit(recorder.write)
    task = asyncio.create_task(group.submit(1))
    await asyncio.sleep(0.01)
    assert not task.done()
    recorder.gate.set()
    await task


async def test_a_failed_transaction_fails_every_caller_in_it_and_later_ones_still_commit() -> None:
    recorder = Recorder(fail_on=2)
    group: GroupCommit[int] = GroupCommit(recorder.write, max_batch=2)
    tasks = [asyncio.create_task(group.submit(i)) for i in range(1, 5)]
    recorder.gate.set()
    results = await asyncio.gather(*tasks, return_exceptions=True)
    assert [isinstance(r, RuntimeError) for r in results] == [True, True, False, False]
    assert recorder.batches == [[1, 2], [3, 4]]


@pytest.mark.parametrize("max_batch", [1, 3])
async def test_batches_never_exceed_max_batch(max_batch: int) -> None:
    recorder = Recorder()
    recorder.gate.set()
    group: GroupCommit[int] = GroupCommit(recorder.write, max_batch=max_batch)
    await asyncio.gather(*(group.submit(i) for i in range(7)))
    assert all(len(batch) <= max_batch for batch in recorder.batches)
    assert sorted(i for batch in recorder.batches for i in batch) == list(range(7))
