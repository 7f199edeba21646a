"""The ORM's SQLite backend, with transactions that take the write lock when they begin (``BEGIN IMMEDIATE``).

Tortoise opens a transaction with a plain (deferred) ``BEGIN``. In WAL mode such a transaction that reads first and
writes later fails at once with "database is locked" if another connection committed in between: its snapshot is
stale and SQLite cannot upgrade it, so the busy timeout does not help. Another connection always exists here (the
callback inbox writes through its own, app/sync/inbox.py, while a sync or an admin's save reads and then writes),
so a save could fail for no reason an admin could act on. Taking the lock at ``BEGIN`` waits (up to the busy
timeout) instead. Everything else is Tortoise's own client; ``build_config`` (app/core/db.py) selects this module
for ``sqlite://`` URLs.
"""

from __future__ import annotations

import sqlite3

from tortoise.backends.base.client import TransactionContext
from tortoise.backends.sqlite import client as tortoise_sqlite
from tortoise.exceptions import TransactionManagementError


class _ImmediateTransaction(tortoise_sqlite.SqliteTransactionWrapper):
    async def begin(self) -> None:
        try:
            await self._connection.commit()
            await self._connection.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            raise TransactionManagementError(exc) from exc


class SqliteClient(tortoise_sqlite.SqliteClient):
    def _in_transaction(self) -> TransactionContext:
        return tortoise_sqlite.SqliteTransactionContext(_ImmediateTransaction(self), self._lock)


client_class = SqliteClient
