"""SQLite transactions take the write lock when they begin (app/core/sqlite_backend.py).

Another connection writes to the same file while the console works (the callback inbox has its own). A transaction
that read first and wrote later used to fail with "database is locked" when that connection committed in between;
now the other writer waits for the transaction instead.
"""

from __future__ import annotations

import asyncio
import sqlite3

from tortoise import Tortoise
from tortoise.transactions import in_transaction

from app.models.system import SystemParam


def _other_write(path: str, table: str, label: str, timeout: float) -> str:
    other = sqlite3.connect(path, isolation_level=None, timeout=timeout)
    try:
        other.execute(f'UPDATE "{table}" SET "label" = ? WHERE "key" = ?', (label, "a"))
        return "written"
    except sqlite3.OperationalError as exc:
        return str(exc)
    finally:
        other.close()


async def test_a_read_then_write_transaction_is_not_broken_by_another_connection(orm: str) -> None:
    conn = Tortoise.get_connection("default")
    if conn.capabilities.dialect != "sqlite":
        return  # PostgreSQL has no such lock
    table = SystemParam._meta.db_table
    await SystemParam.create(key="a", label="a", value={"value": 1})
    async with in_transaction():
        await SystemParam.get(key="a")  # reads first ...
        # ... while another connection tries to write: it must wait for this transaction (here: give up quickly).
        during = await asyncio.to_thread(_other_write, conn.filename, table, "other", 0.2)
        await SystemParam.create(key="b", label="b", value={"value": 2})  # ... then writes
    assert during == "database is locked"
    assert await SystemParam.filter(key="b").exists()
    assert await asyncio.to_thread(_other_write, conn.filename, table, "other", 5.0) == "written"  # after commit
    assert (await SystemParam.get(key="a")).label == "other"
