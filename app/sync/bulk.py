"""Plain parameterised SQL for the sync's big reads and writes (100,000 people, as many log entries).

Building one ORM object per row, or one pypika term per value of a big ``IN (...)``, costs more than the database
work itself at this size. So rows go in and out as tuples through the connection (``execute_many`` /
``execute_query``), in the ORM's own storage format: plain values of the right Python type pass through as they
are, anything else goes through the field's ``to_db_value`` (JSON, enums, strings for ints...). Placeholders are
``?`` on SQLite and ``$1`` on PostgreSQL; the connection is looked up at call time, so inside ``in_transaction()``
the statements join the transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from tortoise import connections
from tortoise.exceptions import ValidationError
from tortoise.fields import Field
from tortoise.fields.data import CharField, DatetimeField
from tortoise.models import Model

# Keys per lookup statement: below every backend's limit on bound parameters (SQLite's old default is 999).
CHUNK = 900

Converter = Callable[[Any], Any]
_converters: dict[tuple[type[Model], tuple[str, ...]], list[Converter | None]] = {}


def _connection(model: type[Model]):
    return connections.get(model._meta.default_connection or "default")


def _marks(conn, count: int, start: int = 0) -> list[str]:
    if conn.capabilities.dialect == "postgres":
        return [f"${i + 1}" for i in range(start, start + count)]
    return ["?"] * count


def _field(model: type[Model], column: str) -> Field:
    return model._meta.fields_map[column]  # a foreign key's column ("main_dept_id") is a field of its own


def _converter(field: Field) -> Converter | None:
    """None when values of the field's own type are stored as they are (then only the type is checked)."""
    if isinstance(field, DatetimeField):
        # Aware datetimes are stored as they are; naive ones take the field's path (warning, made aware).
        def convert_datetime(value: Any) -> Any:
            if value is None or (isinstance(value, datetime) and value.tzinfo is not None):
                return value
            return field.to_db_value(value, None)

        return convert_datetime
    if type(field).to_db_value is not Field.to_db_value:
        return lambda value: field.to_db_value(value, None)
    kind = field.field_type
    limit = field.max_length if isinstance(field, CharField) else None

    def convert(value: Any) -> Any:
        if value is None or type(value) is kind:
            if limit is not None and value is not None and len(value) > limit:
                raise ValidationError(f"{field.model_field_name}: Length of '{value}' {len(value)} > {limit}")
            return value
        return field.to_db_value(value, None)

    return convert


def _row_converters(model: type[Model], columns: Sequence[str]) -> list[Converter | None]:
    key = (model, tuple(columns))
    if key not in _converters:
        _converters[key] = [_converter(_field(model, c)) for c in columns]
    return _converters[key]


def _quoted(columns: Iterable[str]) -> str:
    return ", ".join(f'"{c}"' for c in columns)


async def insert_rows(model: type[Model], columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    conn = _connection(model)
    converters = list(enumerate(_row_converters(model, columns)))
    marks = ", ".join(_marks(conn, len(columns)))
    sql = f'INSERT INTO "{model._meta.db_table}" ({_quoted(columns)}) VALUES ({marks})'
    values = []
    for row in rows:
        row = list(row)
        if len(row) != len(columns):
            raise ValueError(f"row has {len(row)} values for {len(columns)} columns")
        for i, convert in converters:
            if convert is not None:
                row[i] = convert(row[i])
        values.append(row)
    if values:
        await conn.execute_many(sql, values)
    return len(values)


async def update_rows(model: type[Model], columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    """``UPDATE ... SET columns WHERE id = ?`` once per row; each row is the column values followed by the id."""
    conn = _connection(model)
    converters = list(enumerate(_row_converters(model, columns)))
    marks = _marks(conn, len(columns) + 1)
    assignments = ", ".join(f'"{c}" = {m}' for c, m in zip(columns, marks, strict=False))
    sql = f'UPDATE "{model._meta.db_table}" SET {assignments} WHERE "id" = {marks[-1]}'
    values = []
    for row in rows:
        row = list(row)
        for i, convert in converters:
            if convert is not None:
                row[i] = convert(row[i])
        values.append(row)
    if values:
        await conn.execute_many(sql, values)
    return len(values)


async def select(model: type[Model], columns: Sequence[str], where: str = "", params: Sequence[Any] = ()) -> list:
    """Rows as tuples. ``where`` uses ``{}`` for each parameter, e.g. ``"org_id" = {} AND ...``."""
    conn = _connection(model)
    sql = f'SELECT {_quoted(columns)} FROM "{model._meta.db_table}"'
    if where:
        sql += " WHERE " + where.format(*_marks(conn, len(params)))
    _, rows = await conn.execute_query(sql, list(params))
    return [tuple(r) for r in rows]


async def select_in(
    model: type[Model],
    columns: Sequence[str],
    key: str,
    keys: Iterable[Any],
    where: str = "",
    params: Sequence[Any] = (),
) -> list:
    """Rows whose ``key`` is one of ``keys``, looked up in chunks; ``where``/``params`` as in :func:`select`."""
    conn = _connection(model)
    keys = list(dict.fromkeys(keys))
    base = f'SELECT {_quoted(columns)} FROM "{model._meta.db_table}" WHERE '
    found: list = []
    for start in range(0, len(keys), CHUNK):
        chunk = keys[start : start + CHUNK]
        marks = _marks(conn, len(params) + len(chunk))
        sql = base + (where.format(*marks[: len(params)]) + " AND " if where else "")
        sql += f'"{key}" IN ({", ".join(marks[len(params) :])})'
        _, rows = await conn.execute_query(sql, [*params, *chunk])
        found.extend(tuple(r) for r in rows)
    return found


def now() -> datetime:
    return datetime.now(UTC)
