"""The connector's committed migrations build exactly the schema its models describe (its own database)."""

from __future__ import annotations

from pathlib import Path

import pytest
from tortoise.context import TortoiseContext

from app.connector.db import build_config, run_migrations
from tests.conftest import PG_DSN, _create_pg_database, _drop_pg_database

pytestmark = pytest.mark.database  # builds its own databases from PG_DSN / SQLite files


async def _columns(ctx: TortoiseContext) -> dict[str, set[tuple[str, bool]]]:
    conn = ctx.connections.get("connector")
    result: dict[str, set[tuple[str, bool]]] = {}
    if conn.capabilities.dialect == "postgres":
        _, rows = await conn.execute_query(
            "SELECT table_name, column_name, is_nullable FROM information_schema.columns WHERE table_schema='public'"
        )
        for r in rows:
            result.setdefault(r["table_name"], set()).add((r["column_name"], r["is_nullable"] == "YES"))
        return result
    _, tables = await conn.execute_query("SELECT name FROM sqlite_master WHERE type='table'")
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
        columns = await _columns(ctx)
    for name in ("tortoise_migrations", "sqlite_sequence"):
        columns.pop(name, None)
    return columns


async def test_connector_migrations_match_models(tmp_path: Path) -> None:
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
    assert set(migrated) == set(generated), "run `tortoise -c app.connector.db.TORTOISE_ORM makemigrations`"
    for table in generated:
        assert migrated[table] == generated[table], f"columns of {table} differ from the models"
