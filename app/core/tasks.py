"""One registry for every background task of the process: it starts, names, supervises and stops them.

Before it, each worker kept its own task (or set of tasks) and its own stop function, and a task that died with an
exception stayed dead until the next restart of the process. Now:

- ``supervise(name, factory)`` runs a long-lived loop (a worker). When the loop raises, the failure is logged and the
  loop is started again after a pause that doubles on every failure in a row (``Backoff``: 1 s, 2 s, 4 s ... up to
  60 s), each restart logged with its number and pause. A loop that ran longer than the longest pause before failing
  starts over at the shortest pause. A loop that returns has finished and is not restarted.
- ``spawn(name, coroutine)`` is the fire-and-forget form for one-off work a caller starts and does not wait for
  (a sync run, a baseline pull): not restarted, but known by name and cancelled or awaited at shutdown.
- ``stop()`` cancels every task, newest first, and waits for them to finish, so nothing outlives the runtime.

The clock and the sleep are injectable, so tests drive the backoff without waiting on real time.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)

Sleep = Callable[[float], Awaitable[None]]
Clock = Callable[[], float]


@dataclass(frozen=True)
class Backoff:
    """Pause before restart ``n`` (1-based): ``initial * factor ** (n - 1)``, never more than ``maximum``."""

    initial: float = 1.0
    factor: float = 2.0
    maximum: float = 60.0

    def delay(self, restart: int) -> float:
        return min(self.maximum, self.initial * self.factor ** max(restart - 1, 0))


class TaskRegistry:
    def __init__(self, *, sleep: Sleep | None = None, clock: Clock | None = None, backoff: Backoff | None = None):
        self._sleep = sleep or asyncio.sleep
        self._clock = clock or time.monotonic
        self._backoff = backoff or Backoff()
        self._tasks: dict[asyncio.Task[Any], str] = {}
        self.restarts: dict[str, int] = {}

    # -- starting ----------------------------------------------------------------------------------------------------

    def supervise(self, name: str, factory: Callable[[], Coroutine[Any, Any, Any]]) -> asyncio.Task[None]:
        """Run ``factory()`` as the task ``name``, restarting it with backoff whenever it raises."""
        self.restarts.setdefault(name, 0)
        return self._track(name, asyncio.get_running_loop().create_task(self._supervised(name, factory), name=name))

    def spawn(self, name: str, coroutine: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        """Run ``coroutine`` once in the background as the task ``name``; shutdown cancels it if still running."""
        return self._track(name, asyncio.get_running_loop().create_task(coroutine, name=name))

    def _track(self, name: str, task: asyncio.Task[Any]) -> asyncio.Task[Any]:
        self._tasks[task] = name
        task.add_done_callback(self._forget)
        return task

    def _forget(self, task: asyncio.Task[Any]) -> None:
        name = self._tasks.pop(task, task.get_name())
        if not task.cancelled() and task.exception() is not None:
            log.error("background task %s ended with an error", name, exc_info=task.exception())

    async def _supervised(self, name: str, factory: Callable[[], Coroutine[Any, Any, Any]]) -> None:
        failures = 0
        while True:
            started = self._clock()
            try:
                await factory()
            except asyncio.CancelledError:
                raise
            except Exception:
                if self._clock() - started > self._backoff.maximum:
                    failures = 0  # it ran well for a while: this is a new failure, not the same one again
                failures += 1
                self.restarts[name] = self.restarts.get(name, 0) + 1
                pause = self._backoff.delay(failures)
                log.exception("background task %s failed; restart %d in %.0f s", name, self.restarts[name], pause)
                await self._sleep(pause)
                log.warning("background task %s restarting (restart %d)", name, self.restarts[name])
                continue
            log.info("background task %s finished", name)
            return

    # -- looking -----------------------------------------------------------------------------------------------------

    def names(self) -> list[str]:
        """Names of the running tasks, in the order they were started."""
        return list(self._tasks.values())

    def supervised(self) -> list[str]:
        """Names of the running supervised loops (the workers), in the order they were started."""
        return [n for n in self._tasks.values() if n in self.restarts]

    def running(self, name: str) -> list[asyncio.Task[Any]]:
        return [t for t, n in self._tasks.items() if n == name]

    # -- stopping ----------------------------------------------------------------------------------------------------

    async def wait(self, name_prefix: str, max_wait: float) -> None:
        """Wait up to ``max_wait`` seconds for the tasks whose name starts with ``name_prefix`` (tests, shutdown)."""
        tasks = [t for t, n in self._tasks.items() if n.startswith(name_prefix)]
        if tasks:
            await asyncio.wait(tasks, timeout=max_wait)

    async def stop(self, max_wait: float = 10.0) -> None:
        """Cancel every task, newest first, and wait (up to ``max_wait`` seconds) until all of them have ended."""
        tasks = list(self._tasks)
        for task in reversed(tasks):
            task.cancel()
        if tasks:
            _, pending = await asyncio.wait(tasks, timeout=max_wait)
            for task in pending:
                log.warning("background task %s did not stop within %.0f s", task.get_name(), max_wait)
        self._tasks.clear()
