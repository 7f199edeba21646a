"""The task registry: supervised loops restart with exponential backoff, and stop() leaves nothing running.

The registry's sleep and clock are driven by the test, so no assertion depends on how fast the machine is.
"""

from __future__ import annotations

import asyncio
import logging

import pytest

from app.core.tasks import Backoff, TaskRegistry

DEADLINE = 30.0


class Clock:
    """A clock that moves only when the registry sleeps (or the test moves it)."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.pauses: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.pauses.append(seconds)
        self.now += seconds


def flaky(failures: int, reached: asyncio.Event, *, ran_for: float = 0.0, clock: Clock | None = None):
    """A loop that raises ``failures`` times (after running ``ran_for`` clock seconds), then runs until cancelled."""
    calls = {"n": 0}

    async def loop() -> None:
        calls["n"] += 1
        if calls["n"] <= failures:
            if clock is not None:
                clock.now += ran_for
            raise RuntimeError(f"failure {calls['n']}")
        reached.set()
        await asyncio.Event().wait()

    return loop, calls


async def test_a_failing_loop_restarts_with_doubling_pauses_each_logged(caplog: pytest.LogCaptureFixture) -> None:
    clock = Clock()
    registry = TaskRegistry(sleep=clock.sleep, clock=clock, backoff=Backoff(initial=1, factor=2, maximum=8))
    reached = asyncio.Event()
    loop, calls = flaky(5, reached)
    with caplog.at_level(logging.INFO, logger="app.core.tasks"):
        registry.supervise("flaky-loop", loop)
        await asyncio.wait_for(reached.wait(), DEADLINE)
    assert calls["n"] == 6
    assert clock.pauses == [1, 2, 4, 8, 8]  # doubling, capped at the maximum
    assert registry.restarts["flaky-loop"] == 5
    failed = [r for r in caplog.records if "failed; restart" in r.getMessage()]
    restarting = [r for r in caplog.records if "restarting (restart" in r.getMessage()]
    assert [r.getMessage() for r in failed] == [
        f"background task flaky-loop failed; restart {n} in {p} s" for n, p in enumerate([1, 2, 4, 8, 8], 1)
    ]
    assert all(r.exc_info for r in failed)  # the traceback of every failure is in the log
    assert len(restarting) == 5
    assert registry.names() == ["flaky-loop"]
    await registry.stop()
    assert registry.names() == []


async def test_a_loop_that_ran_long_before_failing_starts_over_at_the_shortest_pause() -> None:
    clock = Clock()
    registry = TaskRegistry(sleep=clock.sleep, clock=clock, backoff=Backoff(initial=1, factor=2, maximum=8))
    reached = asyncio.Event()
    loop, _ = flaky(3, reached, ran_for=60.0, clock=clock)  # each run lasts longer than the longest pause
    registry.supervise("steady-loop", loop)
    await asyncio.wait_for(reached.wait(), DEADLINE)
    assert clock.pauses == [1, 1, 1]
    await registry.stop()


async def test_a_loop_that_returns_is_finished_not_restarted() -> None:
    clock = Clock()
    registry = TaskRegistry(sleep=clock.sleep, clock=clock)

    async def once() -> None:
        return None

    task = registry.supervise("one-shot", once)
    await asyncio.wait_for(task, DEADLINE)
    assert clock.pauses == []
    assert registry.restarts["one-shot"] == 0
    assert registry.names() == []


async def test_stop_cancels_supervised_and_spawned_tasks_and_waits_for_their_cleanup() -> None:
    registry = TaskRegistry()
    started = {"loop": asyncio.Event(), "job": asyncio.Event()}
    cleaned: list[str] = []

    async def worker(name: str) -> None:
        started[name].set()
        try:
            await asyncio.Event().wait()
        finally:
            await asyncio.sleep(0)  # cleanup that itself awaits still completes before stop() returns
            cleaned.append(name)

    registry.supervise("loop", lambda: worker("loop"))
    registry.spawn("job", worker("job"))
    await asyncio.wait_for(asyncio.gather(*(e.wait() for e in started.values())), DEADLINE)
    assert sorted(registry.names()) == ["job", "loop"]
    await registry.stop()
    assert sorted(cleaned) == ["job", "loop"]
    assert registry.names() == []
    assert registry.restarts["loop"] == 0  # a cancelled loop is stopped, not restarted


async def test_a_finished_spawned_task_is_forgotten_and_its_error_logged(caplog: pytest.LogCaptureFixture) -> None:
    registry = TaskRegistry()

    async def broken() -> None:
        raise ValueError("bad input")

    task = registry.spawn("one-off", broken())
    with caplog.at_level(logging.ERROR, logger="app.core.tasks"):
        with pytest.raises(ValueError):
            await asyncio.wait_for(task, DEADLINE)
        await asyncio.sleep(0)  # done callbacks run on the next turn of the loop
    assert registry.names() == []
    assert any("one-off ended with an error" in r.getMessage() for r in caplog.records)
    await registry.stop()
