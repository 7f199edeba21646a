"""Plain parameterised SQL for the sync's big reads and writes (100,000 people, as many log entries).

Building one ORM object per row, or one pypika term per value of a big ``IN (...)``, costs more than the database
work itself at this size. So rows go in and out as tuples through the connection (``execute_many`` /
``execute_query``), in the ORM's own storage format: plain values of the right Python type pass through as they
are, anything else goes through the field's ``to_db_value`` (JSON, enums, strings for ints...). Placeholders are
``?`` on SQLite and ``$1`` on PostgreSQL; the connection is looked up at call time, so inside ``in_transaction()``
the statements join the transaction.
"""

from __future__ import annotations

import gc
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from types import NoneType
from typing import Any

import msgspec
from tortoise import connections
from tortoise.fields import Field
from tortoise.fields.data import CharField, DatetimeField
from tortoise.models import Model

# Keys per lookup statement: below every backend's limit on bound parameters (SQLite's old default is 999).
CHUNK = 900

Converter = Callable[[list], list]
_converters: dict[tuple[type[Model], tuple[str, ...], bool], list[Converter]] = {}


def _connection(model: type[Model]):
    return connections.get(model._meta.default_connection or "default")


def _marks(conn, count: int, start: int = 0) -> list[str]:
    if conn.capabilities.dialect == "postgres":
        return [f"${i + 1}" for i in range(start, start + count)]
    return ["?"] * count


def _field(model: type[Model], column: str) -> Field:
    return model._meta.fields_map[column]  # a foreign key's column ("main_dept_id") is a field of its own


def _adapted(column: list) -> list:
    """Datetimes in SQLite's stored form, through the adapter registered with the driver (the one it would call
    itself), once per distinct value: a batch's rows share their timestamps, and the driver's per-value Python
    callback is a third of the cost of inserting a person."""
    adapt = sqlite3.adapters.get((datetime, sqlite3.PrepareProtocol))
    if adapt is None:
        return column
    memo: dict[datetime, Any] = {}
    out = []
    for value in column:
        if value is not None:
            stored = memo.get(value)
            if stored is None:
                stored = memo[value] = adapt(value)
            value = stored
        out.append(value)
    return out


def _converter(field: Field, sqlite: bool) -> Converter:
    """Converts one column (all its values at once). Values already of the field's own type are stored as they
    are, checked in bulk; any other column goes value by value through the field's ``to_db_value``."""

    def one_by_one(column: list) -> list:
        first = column[0]
        if all(value is first for value in column):
            # One object repeated (a default filled in for every new row, e.g. an empty JSON list): convert once.
            return [field.to_db_value(first, None)] * len(column)
        return [field.to_db_value(value, None) for value in column]

    if isinstance(field, DatetimeField):
        # Aware datetimes are stored as they are; naive ones take the field's path (warning, made aware).
        def datetimes(column: list) -> list:
            if not all(v is None or (type(v) is datetime and v.tzinfo is not None) for v in column):
                column = one_by_one(column)
            return _adapted(column) if sqlite else column

        return datetimes
    if type(field).to_db_value is not Field.to_db_value:
        return one_by_one  # JSON, enums, UUIDs...
    kind = field.field_type
    limit = field.max_length if isinstance(field, CharField) else None

    def plain(column: list) -> list:
        kinds = set(map(type, column))
        kinds.discard(NoneType)
        if kinds <= {kind} and (limit is None or max(map(len, filter(None, column)), default=0) <= limit):
            return column
        return one_by_one(column)  # converts other types, and raises the field's own error for a too long value

    return plain


def _row_converters(model: type[Model], columns: Sequence[str], sqlite: bool) -> list[Converter]:
    key = (model, tuple(columns), sqlite)
    if key not in _converters:
        _converters[key] = [_converter(_field(model, c), sqlite) for c in columns]
    return _converters[key]


def _convert_columns(conn, model: type[Model], columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> list[list]:
    """The rows' values column by column, each converted to the form the database stores."""
    rows = list(rows)
    if not rows:
        return []
    by_column = list(zip(*rows, strict=True))
    if len(by_column) != len(columns):
        raise ValueError(f"rows have {len(by_column)} values for {len(columns)} columns")
    converters = _row_converters(model, columns, conn.capabilities.dialect == "sqlite")
    return [convert(list(values)) for convert, values in zip(converters, by_column, strict=True)]


def _convert(conn, model: type[Model], columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> list[tuple]:
    return list(zip(*_convert_columns(conn, model, columns, rows), strict=True))


def _literal(value: Any) -> str | None:
    """``value`` as an SQLite literal, or None when it is not one of the plain kinds written that way."""
    kind = type(value)
    if value is None:
        return "NULL"
    if kind is bool:
        return "1" if value else "0"
    if kind is int:
        return str(value)
    if kind is str and "\x00" not in value:
        return "'" + value.replace("'", "''") + "'"
    return None


def _constant(column: list) -> str | None:
    """The literal of a column whose rows all hold the same plain value (a default, the run id ...), else None."""
    first = column[0]
    kind = type(first)
    if not all(type(v) is kind and v == first for v in column):
        return None
    return _literal(first)


def _quoted(columns: Iterable[str]) -> str:
    return ", ".join(f'"{c}"' for c in columns)


def _default_of(field: Field, stamp: datetime) -> Any:
    if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
        return stamp
    default = field.default
    return default() if callable(default) else default


def defaults(model: type[Model], columns: Sequence[str]) -> tuple[tuple[str, ...], tuple[Any, ...]]:
    """Every other column of ``model`` with its default (the model's own, ``auto_now`` times, NULL), so a bulk
    insert that names only the columns it sets keeps working when a column with a default is added later."""
    given = set(columns)
    given |= {target for target, (source, _) in getattr(model, "DERIVED", {}).items() if source in given}  # computed
    stamp = now()
    names: list[str] = []
    values: list[Any] = []
    for name in model._meta.fields_db_projection:
        field = _field(model, name)
        if name in given or field.pk:
            continue
        names.append(name)
        values.append(_default_of(field, stamp))
    return tuple(names), tuple(values)


@dataclass(frozen=True, slots=True)
class Statement:
    """A bulk write with its values already converted: the Python half of the work is done when it is built, the
    database's half when it runs. A caller can so prepare the next batch while the database executes this one
    (the source stage's pipeline). It runs on the connection current at that time: a transaction's inside
    ``in_transaction()``.

    Either ``sql`` once per row of ``values`` (``execute_many``), or each of ``chunks`` as one statement (multi-row
    inserts on SQLite, see ``insert_statement``). A statement built with ``returning`` columns answers them for
    every row it wrote, in no particular order, where the backend can (SQLite); elsewhere ``run`` answers None and
    the caller reads them back."""

    model: type[Model]
    sql: str
    values: list[tuple]
    chunks: tuple[tuple[str, list], ...] = ()
    rows: int = 0
    returning: bool = False

    @property
    def count(self) -> int:
        return len(self.values) or self.rows

    async def run(self) -> list[tuple] | None:
        conn = _connection(self.model)
        if self.values:
            await conn.execute_many(self.sql, self.values)
        returned: list[tuple] = []
        for sql, params in self.chunks:
            _, rows = await conn.execute_query(sql, params)
            returned.extend(tuple(r) for r in rows)
        return returned if self.returning and not self.values else None


def insert_new_statement(
    model: type[Model], columns: Sequence[str], rows: Iterable[Sequence[Any]], returning: Sequence[str] = ()
) -> Statement:
    """``insert_statement`` for new objects: columns not named get the model's defaults."""
    extra_columns, extra_values = defaults(model, columns)
    return insert_statement(model, (*columns, *extra_columns), ((*row, *extra_values) for row in rows), returning)


async def insert_new(model: type[Model], columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    statement = insert_new_statement(model, columns, rows)
    await statement.run()
    return statement.count


def _with_derived(
    model: type[Model], columns: Sequence[str], rows: Iterable[Sequence[Any]], tail: int = 0
) -> tuple[Sequence[str], Iterable[Sequence[Any]]]:
    """Columns a model derives from another (``DERIVED``: ``name_sort`` from ``name``, app/models/contacts.py) are
    added whenever their source is written, so plain-SQL writes keep them right like the ORM does. ``tail`` is
    the number of trailing values that are not columns to set (the id of an UPDATE)."""
    derived = [
        (target, columns.index(source), compute)
        for target, (source, compute) in getattr(model, "DERIVED", {}).items()
        if source in columns and target not in columns
    ]
    if not derived:
        return columns, rows
    head = len(columns) - tail
    names = (*columns[:head], *(target for target, _, _ in derived), *columns[head:])

    def extended(row: Sequence[Any]) -> tuple:
        return (*row[:head], *(compute(row[at]) for _, at, compute in derived), *row[head:])

    return names, map(extended, rows)


# Rows per JSON statement on SQLite (about a megabyte of text for people).
JSON_ROWS = 5_000
_SQLITE_JSON = sqlite3.sqlite_version_info >= (3, 38)  # json_each and ->> built in
_SQLITE_RETURNING = sqlite3.sqlite_version_info >= (3, 35)
_JSON_KINDS = frozenset({str, int, bool, NoneType})  # values that travel through JSON unchanged


def insert_statement(
    model: type[Model], columns: Sequence[str], rows: Iterable[Sequence[Any]], returning: Sequence[str] = ()
) -> Statement:
    """One ``INSERT`` per row on PostgreSQL (asyncpg pipelines them); on SQLite one statement per few thousand rows,
    their values passed as one JSON array.

    SQLite works in the driver's thread and hands the interpreter lock back and forth around every statement it
    steps, and holds it while binding values: row by row, each handover can wait a whole switch interval (5 ms)
    while the event loop is busy, which made a 100,000-person import run at a few hundred rows a second whenever
    Python work ran beside it. One JSON text is one value to bind; SQLite reads the rows out of it (``json_each``)
    without the interpreter. Unlike a multi-row ``VALUES`` statement, the SQL stays short and the same for every
    batch (the driver keeps the last 128 statements it compiled; thousand-row ``VALUES`` programs cost ~100 MB).
    Columns alike in every row (defaults, the run, the stage ...) are written once as literals, and the statement
    can answer the new rows' ids (``RETURNING``). Values JSON would change (bytes, floats) take the row-by-row path.
    """
    columns, rows = _with_derived(model, columns, rows)
    conn = _connection(model)
    head = f'INSERT INTO "{model._meta.db_table}" ({_quoted(columns)}) '
    by_column = _convert_columns(conn, model, columns, rows)
    as_json = conn.capabilities.dialect == "sqlite" and _SQLITE_JSON
    if not by_column or not as_json or not all(set(map(type, column)) <= _JSON_KINDS for column in by_column):
        values = list(zip(*by_column, strict=True))
        return Statement(model, head + f"VALUES ({', '.join(_marks(conn, len(columns)))})", values)
    constants = [_constant(column) if len(column) > 1 else None for column in by_column]
    varying = [column for column, literal in zip(by_column, constants, strict=True) if literal is None]
    index = iter(range(len(varying)))
    select = ", ".join(f"value ->> {next(index)}" if literal is None else literal for literal in constants)
    tail = f" RETURNING {_quoted(returning)}" if returning and _SQLITE_RETURNING else ""
    sql = f"{head}SELECT {select} FROM json_each(?){tail}"
    values = list(zip(*varying, strict=True)) if varying else [()] * len(by_column[0])
    chunks = tuple(
        (sql, [msgspec.json.encode(values[start : start + JSON_ROWS]).decode()])
        for start in range(0, len(values), JSON_ROWS)
    )
    return Statement(model, "", [], chunks, len(values), returning=bool(tail))


async def insert_rows(model: type[Model], columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    statement = insert_statement(model, columns, rows)
    await statement.run()
    return statement.count


def update_statement(model: type[Model], columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> Statement:
    """``UPDATE ... SET columns WHERE id = ?`` once per row; each row is the column values followed by the id."""
    names, rows = _with_derived(model, (*columns, "id"), rows, tail=1)
    columns = names[:-1]
    conn = _connection(model)
    marks = _marks(conn, len(columns) + 1)
    assignments = ", ".join(f'"{c}" = {m}' for c, m in zip(columns, marks, strict=False))
    sql = f'UPDATE "{model._meta.db_table}" SET {assignments} WHERE "id" = {marks[-1]}'
    return Statement(model, sql, _convert(conn, model, (*columns, "id"), rows))


async def update_rows(model: type[Model], columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    statement = update_statement(model, columns, rows)
    await statement.run()
    return statement.count


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


_relaxed = 0
_thresholds = gc.get_threshold()


@contextmanager
def relaxed_gc(gen0: int = 50_000) -> Iterator[None]:
    """Collect garbage less often while a big import runs.

    An import allocates millions of short-lived objects (parsed pages, row tuples, log lines) while the process
    holds a large heap; at the default thresholds the cycle collector rescans that heap hundreds of times, which
    cost about 2.5 s of a 100,000-person import. Reference counting still frees everything at once; only cycle
    detection runs less often. Nested or concurrent runs share it, and the last one out restores the settings.
    """
    global _relaxed, _thresholds
    if _relaxed == 0:
        _thresholds = gc.get_threshold()
        gc.set_threshold(max(gen0, _thresholds[0]), *_thresholds[1:])
    _relaxed += 1
    try:
        yield
    finally:
        _relaxed -= 1
        if _relaxed == 0:
            gc.set_threshold(*_thresholds)


def now() -> datetime:
    return datetime.now(UTC)
