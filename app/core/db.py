"""Database configuration, migrations and the ASGI lifespan that opens the ORM before the first request.

The ORM is registered in the lifespan (not ``on_startup``, whose tasks NiceGUI does not await) so that every page,
route and worker sees an initialised Tortoise. Migrations run first in an isolated context: running them inside
the registered context breaks Tortoise's global fallback.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from tortoise import Tortoise
from tortoise.context import TortoiseContext

MODEL_MODULES = [
    "app.models.accounts",
    "app.models.system",
    "app.models.orgs",
    "app.models.contacts",
    "app.models.sync",
    "app.models.access",
    "app.models.audit",
    "app.models.api_tokens",
    "app.models.exclusive",
    "app.models.security",
]

log = logging.getLogger(__name__)


def build_config(db_url: str) -> dict[str, Any]:
    return {
        "connections": {"default": _connection(db_url)},
        "apps": {"models": {"models": MODEL_MODULES, "default_connection": "default", "migrations": "migrations"}},
        "use_tz": True,
        "timezone": "UTC",
    }


def _connection(db_url: str) -> str | dict[str, Any]:
    """SQLite through app/core/sqlite_backend.py (transactions that lock when they begin), others as they are."""
    if not db_url.startswith("sqlite:"):
        return db_url
    from tortoise.backends.base.config_generator import expand_db_url

    config = expand_db_url(db_url)
    config["engine"] = "app.core.sqlite_backend"
    return config


def __getattr__(name: str) -> Any:
    # The `tortoise` CLI reads `app.core.db.TORTOISE_ORM`; computing it lazily keeps imports free of side effects.
    if name == "TORTOISE_ORM":
        from app.core.config import get_settings

        return build_config(get_settings().effective_database_url)
    raise AttributeError(name)


async def apply_sqlite_pragmas() -> None:
    """WAL, synchronous=NORMAL, foreign keys and a larger page cache, as every server process opens SQLite."""
    conn = Tortoise.get_connection("default")
    if conn.capabilities.dialect == "sqlite":
        # A 64 MB page cache (default 2 MB) keeps the person table's eight indexes in memory while a full import
        # inserts 100,000 rows in random key order: about a fifth less time in SQLite.
        await conn.execute_script(
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON; PRAGMA cache_size=-65536;"
        )
        restrict_sqlite_files(getattr(conn, "filename", ""))


def restrict_sqlite_files(filename: str) -> None:
    """The database holds password hashes and encrypted secrets: readable by the service account only (0600)."""
    if not filename or filename == ":memory:":
        return
    import os

    for suffix in ("", "-wal", "-shm"):
        path = filename + suffix
        if os.path.exists(path):
            os.chmod(path, 0o600)


async def run_migrations(db_url: str) -> None:
    """Apply every migration in ``migrations/`` (idempotent)."""
    from tortoise.migrations.api.migrate import migrate

    async with TortoiseContext():
        await migrate(config=build_config(db_url))
        await apply_sqlite_pragmas()
        await Tortoise.close_connections()


async def ping() -> bool:
    try:
        await Tortoise.get_connection("default").execute_query("SELECT 1")
        return True
    except Exception:  # any failure means "not reachable" for the health check
        log.warning("database ping failed", exc_info=True)
        return False


def db_lifespan(
    app: Any,
    db_url: str,
    *,
    migrate: bool,
    generate_schemas: bool = False,
    on_ready: Callable[[], Awaitable[None]] | None = None,
    on_shutdown: Callable[[], Awaitable[None]] | None = None,
):
    """Wrap the app's current lifespan with ORM set-up and tear-down.

    ``generate_schemas`` exists for throwaway test databases only; servers apply migrations.
    """
    from contextlib import asynccontextmanager

    from tortoise.contrib.fastapi import RegisterTortoise

    inner = _original_lifespan(app)

    @asynccontextmanager
    async def lifespan(a: Any):
        if migrate:
            await run_migrations(db_url)
        async with RegisterTortoise(
            a, config=build_config(db_url), generate_schemas=generate_schemas, _create_db=False
        ):
            await apply_sqlite_pragmas()
            if on_ready:
                await on_ready()
            try:
                async with inner(a) as state:
                    yield state
            finally:
                if on_shutdown:
                    await on_shutdown()

    return lifespan


_ORIGINAL: dict[int, Any] = {}


def _original_lifespan(app: Any) -> Any:
    # NiceGUI's test harness re-runs the composition root per test without resetting the lifespan; remembering the
    # first one keeps us from nesting one more ORM registration per test.
    key = id(app)
    if key not in _ORIGINAL:
        _ORIGINAL[key] = app.router.lifespan_context
    return _ORIGINAL[key]
