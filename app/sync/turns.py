"""Turns on an org between the callback processor and sync runs.

Both need the org's claim (``runner.claim``). The processor holds it for one bounded round of events at a time
(``callbacks.CHUNK`` objects); a run that is asked for meanwhile (立即同步, a scheduled run) does not answer
同步正在进行中: it says it wants the org, waits for the round to end, and the processor leaves the org to it (the
run applies the pending events itself at its start, and the processor the rest after it).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

WAIT_SECONDS = 60.0

_wanted: dict[int, int] = {}
_rounds: dict[int, asyncio.Event] = {}


def wanted(org_id: int) -> bool:
    """A run is waiting for this org: the processor must not start another round of it."""
    return _wanted.get(org_id, 0) > 0


@contextlib.asynccontextmanager
async def processor_round(org_id: int) -> AsyncIterator[None]:
    """Mark the processor's hold on the org for one round."""
    done = asyncio.Event()
    _rounds[org_id] = done
    try:
        yield
    finally:
        if _rounds.get(org_id) is done:
            del _rounds[org_id]
        done.set()


@contextlib.asynccontextmanager
async def run_turn(org_id: int) -> AsyncIterator[None]:
    """Around claiming the org for a run: wait (bounded) for a processor round in progress to finish first."""
    _wanted[org_id] = _wanted.get(org_id, 0) + 1
    try:
        current = _rounds.get(org_id)
        if current is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(current.wait(), timeout=WAIT_SECONDS)
        yield
    finally:
        _wanted[org_id] -= 1
        if not _wanted[org_id]:
            del _wanted[org_id]
