"""The ordered group writer behind the source stage's pipeline (app/sync/pipeline.py).

The write function here is the test's own: it records what it was given and waits on events the test sets, so
each test decides exactly when a write finishes (no timing).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from app.sync.pipeline import GroupWriter


class Writes:
    def __init__(self, fail_on: int | None = None) -> None:
        self.groups: list[list[int]] = []
        self.release = asyncio.Event()
        self.started = asyncio.Event()
        self.fail_on = fail_on
        self.cancelled = False

    async def __call__(self, group: Sequence[int]) -> None:
        self.groups.append(list(group))
        self.started.set()
        try:
            await self.release.wait()
        except asyncio.CancelledError:
            self.cancelled = True
            raise
        if self.fail_on in group:
            raise RuntimeError(f"page {self.fail_on} failed")


def _rows(page: int) -> int:
    return 1_000


async def test_pages_are_written_in_order_and_those_that_queued_up_together() -> None:
    writes = Writes()
    writer = GroupWriter(writes, _rows, max_rows=3_000, max_queued=10)
    await writer.put(1)
    await writes.started.wait()  # page 1 is being written; 2..5 queue up meanwhile
    for page in (2, 3, 4, 5):
        await writer.put(page)
    writes.release.set()
    await writer.settled()
    assert writes.groups == [[1], [2, 3, 4], [5]]  # at most 3,000 rows a group


async def test_a_failed_write_is_raised_to_the_caller_and_stops_the_writer() -> None:
    writes = Writes(fail_on=1)
    writer = GroupWriter(writes, _rows)
    await writer.put(1)
    await writes.started.wait()
    await writer.put(2)
    writes.release.set()
    with pytest.raises(RuntimeError, match="page 1 failed"):
        await writer.settled()
    assert writes.groups == [[1]]  # page 2 was never written


async def test_the_queue_is_bounded() -> None:
    writes = Writes()
    writer = GroupWriter(writes, _rows, max_rows=1_000, max_queued=2)
    await writer.put(1)
    await writes.started.wait()
    await writer.put(2)
    await writer.put(3)
    third = asyncio.ensure_future(writer.put(4))  # two pages wait already: this one waits for room
    await asyncio.sleep(0)
    assert not third.done()
    writes.release.set()
    await third
    await writer.settled()
    assert writes.groups == [[1], [2], [3], [4]]


async def test_a_failed_stage_still_writes_the_pages_it_planned() -> None:
    writes = Writes()
    writer = GroupWriter(writes, _rows, max_rows=1_000)
    await writer.put(1)
    await writes.started.wait()
    await writer.put(2)  # planned, not started when the stage fails
    writes.release.set()
    await writer.abandon()
    assert writes.groups == [[1], [2]] and not writes.cancelled


async def test_a_failed_write_during_abandon_does_not_replace_the_stage_error() -> None:
    writes = Writes(fail_on=1)
    writer = GroupWriter(writes, _rows, max_rows=1_000)
    await writer.put(1)
    await writer.put(2)
    writes.release.set()
    await writer.abandon()  # returns: the stage raises its own error
    assert writes.groups == [[1]]


async def test_abandon_from_a_cancelled_caller_cancels_the_write_and_drops_the_rest() -> None:
    writes = Writes()
    writer = GroupWriter(writes, _rows, max_rows=1_000)

    async def stage() -> None:
        try:
            await writer.put(1)
            await writer.put(2)
            await asyncio.Event().wait()  # the stage waits on something else when it is cancelled
        except asyncio.CancelledError:
            await writer.abandon()
            raise

    task = asyncio.ensure_future(stage())
    await writes.started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert writes.cancelled and writes.groups == [[1]]
