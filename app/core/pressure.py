"""Acknowledgements first: background work on the shared event loop steps aside while callbacks are being answered.

DingTalk gives a callback 1.5 s before it retries (and finally drops the event into its failed list). Event
processing, sync runs and other background work share the event loop with the endpoint, so each of them calls
``await step_aside()`` between objects: it always yields once, and while acknowledgements are in flight it waits
for them to drain, up to ``max_wait`` so that background work still advances under sustained load.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator

_inflight = 0
_waiters: set[asyncio.Event] = set()


def inflight() -> int:
    return _inflight


@contextlib.contextmanager
def urgent() -> Iterator[None]:
    """Mark a request on the acknowledgement path for as long as it is being answered."""
    global _inflight
    _inflight += 1
    try:
        yield
    finally:
        _inflight -= 1
        if not _inflight:
            for waiter in list(_waiters):
                waiter.set()


async def step_aside(max_wait: float = 0.05) -> None:
    await asyncio.sleep(0)
    if not _inflight:
        return
    idle = asyncio.Event()
    _waiters.add(idle)
    try:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(idle.wait(), timeout=max_wait)
    finally:
        _waiters.discard(idle)
