"""Group commit of acknowledged callbacks into the inbox (``CallbackEvent``).

Every callback must be stored before it is answered, but one INSERT per request costs a turn on the database
connection each (on SQLite a single connection serialises all queries of the process). The endpoint hands its
event to ``store()``, which queues it; one writer task inserts everything that queued up meanwhile in a single
statement (duplicates of retried deliveries are ignored by the unique ``dedup_key``) and then releases all the
waiting requests at once. Under load the batches grow and the cost per acknowledgement falls.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tortoise.exceptions import IntegrityError

from app.models.sync import CallbackEvent

log = logging.getLogger(__name__)

MAX_BATCH = 500


@dataclass
class _Item:
    org_id: int
    event_type: str
    payload: dict[str, Any]
    dedup_key: str
    done: asyncio.Future[None] = field(repr=False, default=None)  # type: ignore[assignment]


class InboxWriter:
    """One per event loop; ``on_stored`` runs after every committed batch (wakes the callback processor)."""

    def __init__(self, on_stored: Callable[[], None] | None = None) -> None:
        self._queue: list[_Item] = []
        self._task: asyncio.Task[None] | None = None
        self._on_stored = on_stored
        self.batches = 0
        self.stored = 0

    async def store(self, org_id: int, event_type: str, payload: dict[str, Any], dedup_key: str) -> None:
        loop = asyncio.get_running_loop()
        item = _Item(org_id, event_type[:64], payload, dedup_key, loop.create_future())
        self._queue.append(item)
        if self._task is None or self._task.done():
            self._task = loop.create_task(self._drain(), name="callback-inbox-writer")
        await item.done

    async def _drain(self) -> None:
        await asyncio.sleep(0)  # let requests that are already being parsed join this batch
        while self._queue:
            batch, self._queue = self._queue[:MAX_BATCH], self._queue[MAX_BATCH:]
            await _insert(batch)
            self.batches += 1
            self.stored += len(batch)
            if self._on_stored is not None:
                self._on_stored()


def _row(item: _Item) -> CallbackEvent:
    return CallbackEvent(org_id=item.org_id, event_type=item.event_type, payload=item.payload, dedup_key=item.dedup_key)


def _settle(item: _Item, exc: BaseException | None = None) -> None:
    if item.done.done():
        return
    if exc is None:
        item.done.set_result(None)
    else:
        item.done.set_exception(exc)


async def _insert(batch: list[_Item]) -> None:
    """One statement for the batch; when it fails (e.g. an org dissolved meanwhile), row by row, so one bad row
    fails only its own request (which answers 500 and is retried by DingTalk)."""
    try:
        await CallbackEvent.bulk_create([_row(i) for i in batch], ignore_conflicts=True)
    except Exception:
        log.warning("group insert of %s callback events failed; storing them one by one", len(batch), exc_info=True)
    else:
        for item in batch:
            _settle(item)
        return
    for item in batch:
        try:
            await _row(item).save()
        except IntegrityError as exc:
            if await CallbackEvent.exists(dedup_key=item.dedup_key):
                _settle(item)  # a retried delivery of an event we already hold
            else:
                _settle(item, exc)
        except Exception as exc:
            log.exception("storing callback event %s failed", item.dedup_key[:40])
            _settle(item, exc)
        else:
            _settle(item)


_current: tuple[asyncio.AbstractEventLoop, InboxWriter] | None = None


def writer(on_stored: Callable[[], None] | None = None) -> InboxWriter:
    """The writer of the running loop (tests start the app on fresh loops)."""
    global _current
    loop = asyncio.get_running_loop()
    if _current is None or _current[0] is not loop:
        _current = (loop, InboxWriter(on_stored))
    return _current[1]
