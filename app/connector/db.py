"""The connector's ORM: its own Tortoise app label (``connector``), database and migrations folder.

The console registers its models under ``models``; the connector never shares that registry. ``context()`` gives
an isolated Tortoise context, so a test (or an embedding process) can run the connector next to the console.
"""

from __future__ import annotations

import contextvars
from typing import Any

from tortoise.context import TortoiseContext

MODEL_MODULES = ["app.connector.models"]


def build_config(db_url: str) -> dict[str, Any]:
    return {
        "connections": {"connector": db_url},
        "apps": {
            "connector": {
                "models": MODEL_MODULES,
                "default_connection": "connector",
                "migrations": "app.connector.migrations",
            }
        },
        "use_tz": True,
        "timezone": "UTC",
    }


def __getattr__(name: str) -> Any:
    # For `tortoise -c app.connector.db.TORTOISE_ORM makemigrations`.
    if name == "TORTOISE_ORM":
        from app.connector.config import get_settings

        return build_config(get_settings().effective_database_url)
    raise AttributeError(name)


async def run_migrations(db_url: str) -> None:
    from tortoise.migrations.api.migrate import migrate

    async with TortoiseContext() as ctx:
        await migrate(config=build_config(db_url))
        await ctx.close_connections()


async def open_context(db_url: str, *, migrate: bool = True, global_fallback: bool = True) -> TortoiseContext:
    """An initialised context for the connector's models (close with ``close_context``).

    The connector process makes it the global fallback so every request task sees it. A process that also runs the
    console (tests) passes ``global_fallback=False`` and runs the connector's tasks inside ``task_context(ctx)``.
    """
    if migrate:
        await run_migrations(db_url)
    ctx = TortoiseContext()
    ctx.__enter__()  # current in this task (and the tasks it starts), also while the apps are built
    await ctx.init(config=build_config(db_url), _enable_global_fallback=global_fallback)
    conn = ctx.connections.get("connector")
    if conn.capabilities.dialect == "sqlite":
        await conn.execute_script("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;")
    return ctx


def task_context(ctx: TortoiseContext) -> contextvars.Context:
    """A copy of the current contextvars in which ``ctx`` is the active Tortoise context (for create_task)."""
    copied = contextvars.copy_context()
    copied.run(ctx.__enter__)
    return copied


async def close_context(ctx: TortoiseContext) -> None:
    await ctx.close_connections()
