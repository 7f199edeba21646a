"""The committed migrations build exactly the schema the models describe, and applying them twice is harmless."""

from __future__ import annotations

from pathlib import Path

import pytest
from tortoise import Tortoise
from tortoise.context import TortoiseContext

from app.core.db import build_config, run_migrations
from app.core.pinyin import sort_key
from tests.conftest import PG_DSN, _create_pg_database, _drop_pg_database

pytestmark = pytest.mark.database  # builds its own databases from PG_DSN / SQLite files


async def _columns() -> dict[str, set[tuple[str, bool]]]:
    conn = Tortoise.get_connection("default")
    if conn.capabilities.dialect == "postgres":
        _, rows = await conn.execute_query(
            "SELECT table_name, column_name, is_nullable FROM information_schema.columns WHERE table_schema='public'"
        )
        result: dict[str, set[tuple[str, bool]]] = {}
        for r in rows:
            result.setdefault(r["table_name"], set()).add((r["column_name"], r["is_nullable"] == "YES"))
        return result
    _, tables = await conn.execute_query("SELECT name FROM sqlite_master WHERE type='table'")
    result = {}
    for t in tables:
        _, cols = await conn.execute_query(f"PRAGMA table_info('{t['name']}')")
        result[t["name"]] = {(c["name"], not c["notnull"] and not c["pk"]) for c in cols}
    return result


async def _schema(url: str, *, migrate: bool) -> dict[str, set[tuple[str, bool]]]:
    if migrate:
        await run_migrations(url)
        await run_migrations(url)  # idempotent
    async with TortoiseContext() as ctx:
        await ctx.init(config=build_config(url))
        if not migrate:
            await ctx.generate_schemas()
        columns = await _columns()
    columns.pop("tortoise_migrations", None)
    columns.pop("sqlite_sequence", None)
    return columns


async def test_migrations_match_models(tmp_path: Path) -> None:
    if PG_DSN:
        (url_a, name_a), (url_b, name_b) = await _create_pg_database(), await _create_pg_database()
    else:
        url_a, url_b = f"sqlite://{tmp_path / 'a.sqlite3'}", f"sqlite://{tmp_path / 'b.sqlite3'}"
    try:
        migrated = await _schema(url_a, migrate=True)
        generated = await _schema(url_b, migrate=False)
    finally:
        if PG_DSN:
            await _drop_pg_database(name_a)
            await _drop_pg_database(name_b)
    assert set(migrated) == set(generated), "tables differ: run `tortoise makemigrations` and commit the result"
    for table in generated:
        assert migrated[table] == generated[table], f"columns of {table} differ from the models"


async def test_migrations_add_the_other_department_lookup_index(tmp_path: Path) -> None:
    if PG_DSN:
        url, name = await _create_pg_database()
    else:
        url, name = f"sqlite://{tmp_path / 'c.sqlite3'}", ""
    try:
        await run_migrations(url)
        async with TortoiseContext() as ctx:
            await ctx.init(config=build_config(url))
            conn = Tortoise.get_connection("default")
            if conn.capabilities.dialect == "postgres":
                _, rows = await conn.execute_query(
                    "SELECT indexname AS name FROM pg_indexes WHERE tablename = $1", ["person_other_dept"]
                )
            else:
                _, rows = await conn.execute_query(
                    "SELECT name FROM sqlite_master WHERE type='index' AND tbl_name=?", ["person_other_dept"]
                )
            names = {r["name"] for r in rows}
    finally:
        if PG_DSN:
            await _drop_pg_database(name)
    assert "idx_person_other_dept_department" in names


async def test_upgrade_adds_columns_to_tables_that_hold_rows(tmp_path: Path) -> None:
    """Columns added after the first release carry database defaults, so an install with data upgrades.

    SQLite only: rows are written with foreign keys unchecked, which PostgreSQL would not allow; PostgreSQL's
    ``ADD COLUMN ... NOT NULL DEFAULT`` behaves the same way.
    """
    from tortoise.migrations.api.migrate import migrate

    if PG_DSN:
        return
    url = f"sqlite://{tmp_path / 'up.sqlite3'}"
    tables = ("person", "department", "sync_run", "sync_settings")
    async with TortoiseContext():
        await migrate(config=build_config(url), target="models.0002_other_dept_lookup_index")
        conn = Tortoise.get_connection("default")
        await conn.execute_script("PRAGMA foreign_keys=OFF;")
        for table in tables:  # one row of dummy values in every column of the old schema
            _, cols = await conn.execute_query(f"PRAGMA table_info('{table}')")
            names = [c["name"] for c in cols if not c["pk"]]
            values = ["1" if "INT" in c["type"].upper() or "BOOL" in c["type"].upper() else "'1'" for c in cols]
            values = [v for v, c in zip(values, cols, strict=True) if not c["pk"]]
            await conn.execute_script(
                f'INSERT INTO "{table}" ({", ".join(f"{n!r}".replace(chr(39), chr(34)) for n in names)}) '
                f"VALUES ({', '.join(values)});"
            )
        await Tortoise.close_connections()
    await run_migrations(url)
    async with TortoiseContext() as ctx:
        await ctx.init(config=build_config(url))
        conn = Tortoise.get_connection("default")
        _, rows = await conn.execute_query('SELECT "telephone", "sync_conflicts" FROM "person"')
        assert [(r["telephone"], r["sync_conflicts"]) for r in rows] == [("", "{}")]
        for table in ("person", "department"):  # the pinyin key of names written before it existed
            _, rows = await conn.execute_query(f'SELECT "name", "name_sort" FROM "{table}"')
            assert [r["name_sort"] for r in rows] == [sort_key(r["name"]) for r in rows] == [sort_key("1")]
        _, rows = await conn.execute_query('SELECT "reconcile_days", "source_drop_guard" FROM "sync_settings"')
        assert [(r["reconcile_days"], r["source_drop_guard"]) for r in rows] == [(7, 20)]
