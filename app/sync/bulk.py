"""Plain multi-row INSERTs for the sync's big writes (100,000 people, as many log entries).

Building one ORM object per row costs more than the database work itself at this size, so rows go in as tuples
through the connection's ``execute_many``, converted by each field's own ``to_db_value`` (same storage format as
the ORM: datetimes, JSON, booleans).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from tortoise import connections
from tortoise.models import Model


async def insert_rows(model: type[Model], columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    meta = model._meta
    conn = connections.get(meta.default_connection or "default")
    fields = []
    for column in columns:
        name = column[:-3] if column.endswith("_id") and column[:-3] in meta.fk_fields else column
        fields.append(meta.fields_map[f"{name}_id" if name in meta.fk_fields else name])
    postgres = conn.capabilities.dialect == "postgres"
    marks = ", ".join(f"${i + 1}" if postgres else "?" for i in range(len(columns)))
    quoted = ", ".join(f'"{c}"' for c in columns)
    sql = f'INSERT INTO "{meta.db_table}" ({quoted}) VALUES ({marks})'
    values = [[f.to_db_value(v, None) for f, v in zip(fields, row, strict=True)] for row in rows]
    if values:
        await conn.execute_many(sql, values)
    return len(values)


def now() -> datetime:
    return datetime.now(UTC)
