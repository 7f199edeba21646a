"""Group commit of acknowledged callbacks into the inbox (``CallbackEvent``).

Every callback must be stored before it is answered, but one INSERT per request costs a turn on the database
connection each (on SQLite a single connection serialises all queries of the process). The endpoint hands its
event to ``store()``, which queues it; one writer task inserts everything that queued up meanwhile in a single
statement (duplicates of retried deliveries are ignored by the unique ``dedup_key``) and then releases all the
waiting requests at once. Under load the batches grow and the cost per acknowledgement falls.

On SQLite the ORM has one connection for the whole process, and every query of a running sync queues on it; an
acknowledgement must not wait in that queue. The writer therefore inserts through its own connection to the same
database file, in its own thread (WAL lets it write between the sync's short transactions). Should that fail, the
rows go through the ORM one by one, so nothing is lost either way.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from tortoise import Tortoise
from tortoise.exceptions import IntegrityError
from tortoise.fields.data import JSON_DUMPS

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
        self._own: _OwnSqlite | None = _OwnSqlite.for_default_connection()
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

    def close(self) -> None:
        if self._own is not None:
            self._own.close()

    async def _drain(self) -> None:
        await asyncio.sleep(0)  # let requests that are already being parsed join this batch
        while self._queue:
            batch, self._queue = self._queue[:MAX_BATCH], self._queue[MAX_BATCH:]
            if self._own is not None and await self._own.insert(batch):
                for item in batch:
                    _settle(item)
            else:
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


class _OwnSqlite:
    """The writer's own connection to the SQLite file, used from one dedicated thread."""

    SQL = (
        'INSERT OR IGNORE INTO "callback_event" ("org_id", "event_type", "payload", "dedup_key", "received_at", '
        '"attempts", "last_error") VALUES (?, ?, ?, ?, ?, 0, \'\')'
    )

    def __init__(self, path: str) -> None:
        self.path = path
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="callback-inbox")
        self._conn: sqlite3.Connection | None = None

    @classmethod
    def for_default_connection(cls) -> _OwnSqlite | None:
        try:
            conn = Tortoise.get_connection("default")
        except Exception:
            return None
        path = getattr(conn, "filename", None)
        if conn.capabilities.dialect != "sqlite" or not path or path == ":memory:":
            return None
        return cls(path)

    def _write(self, rows: list[tuple]) -> None:
        if self._conn is None:
            self._conn = sqlite3.connect(self.path, timeout=10.0, isolation_level=None, check_same_thread=False)
            self._conn.execute("PRAGMA foreign_keys=ON")
            self._conn.execute("PRAGMA busy_timeout=10000")
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            self._conn.executemany(self.SQL, rows)
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise
        self._conn.execute("COMMIT")

    async def insert(self, batch: list[_Item]) -> bool:
        """True when the batch is committed; False sends it the ORM way (e.g. an org dissolved meanwhile)."""
        now = datetime.now(UTC).isoformat(" ")
        rows = [(i.org_id, i.event_type, JSON_DUMPS(i.payload), i.dedup_key, now) for i in batch]
        try:
            await asyncio.get_running_loop().run_in_executor(self._executor, self._write, rows)
        except Exception:
            log.warning("callback inbox: own connection failed for %s rows; using the ORM", len(rows), exc_info=True)
            return False
        return True

    def close(self) -> None:
        def shut() -> None:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

        self._executor.submit(shut)
        self._executor.shutdown(wait=False)


_current: tuple[asyncio.AbstractEventLoop, InboxWriter] | None = None


def writer(on_stored: Callable[[], None] | None = None) -> InboxWriter:
    """The writer of the running loop (tests start the app on fresh loops)."""
    global _current
    loop = asyncio.get_running_loop()
    if _current is None or _current[0] is not loop:
        if _current is not None:
            _current[1].close()
        _current = (loop, InboxWriter(on_stored))
    return _current[1]
