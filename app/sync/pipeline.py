"""Ordered background writes: a stage plans the next page while the pages planned before it are written.

Most of an import's cost is the database's own work (inserting rows into tables with several indexes, writing the
journal at each commit), which SQLite does in its driver's thread and PostgreSQL in its server, without holding
the interpreter. Planning a page (looking elements up, building rows, converting values) is Python work on the
event loop. ``GroupWriter`` lets the two run side by side:

- pages are written strictly in the order they were put, by one task, so what a page's write sees is what the
  pages before it wrote, and a cursor saved after a write covers only committed pages;
- pages that queued up while a write ran are written together, in one transaction, up to ``max_rows`` rows
  (fewer commits: each commit rewrites every index page the batch touched);
- at most ``max_queued`` pages wait, so memory stays bounded when the database is the slower side;
- a failed write stops the writer, and its error is raised to the stage at its next ``put`` or ``settled``;
- when the stage itself fails, the pages it planned are still written (``abandon``), unless it was cancelled.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

_P = TypeVar("_P")


class GroupWriter(Generic[_P]):
    def __init__(
        self,
        write: Callable[[Sequence[_P]], Awaitable[None]],
        rows: Callable[[_P], int],
        *,
        max_rows: int = 10_000,
        max_queued: int = 4,
    ) -> None:
        self._write = write
        self._rows = rows
        self._max_rows = max_rows
        self._max_queued = max_queued
        self._queue: list[_P] = []
        self._task: asyncio.Task[None] | None = None
        self._room = asyncio.Event()

    async def put(self, page: _P) -> None:
        """Queue a planned page; waits while ``max_queued`` pages are already waiting."""
        self._raise_failure()
        while len(self._queue) >= self._max_queued and self._task is not None:
            self._room.clear()
            waiter = asyncio.ensure_future(self._room.wait())
            await asyncio.wait([waiter, self._task], return_when=asyncio.FIRST_COMPLETED)
            waiter.cancel()
            self._raise_failure()
        self._queue.append(page)
        if self._task is None:
            self._task = asyncio.ensure_future(self._drain())

    async def settled(self) -> None:
        """Wait until every page put so far is written; a write's error is raised here."""
        while self._task is not None:
            task = self._task
            await asyncio.wait([task])
            self._raise_failure()

    async def abandon(self) -> None:
        """The stage failed. Cancelled (shutdown): cancel the write in flight and drop the pages not started.
        Failed otherwise (EKP broke in the middle of a read): write the pages already planned, which are whole, so
        the next run starts after them. Either way the stage's own error is what is raised, never a write's."""
        current = asyncio.current_task()
        if current is not None and current.cancelling():
            self._queue.clear()
            if self._task is not None:
                self._task.cancel()
        task, self._task = self._task, None
        if task is not None:
            with contextlib.suppress(BaseException):
                await task

    def _raise_failure(self) -> None:
        task = self._task
        if task is not None and task.done():
            self._task = None
            task.result()  # raises the write's error, if it failed

    async def _drain(self) -> None:
        while self._queue:
            group = [self._queue.pop(0)]
            rows = self._rows(group[0])
            while self._queue and rows + self._rows(self._queue[0]) <= self._max_rows:
                rows += self._rows(self._queue[0])
                group.append(self._queue.pop(0))
            self._room.set()
            await self._write(group)
        self._task = None
