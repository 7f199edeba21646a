"""Start and stop the connector's non-UI half: settings, secrets, database, runtime, routes and workers.

``main.py`` (the NiceGUI process) and the tests both use this, so the HTTP contract a business system sees is the
same code in both.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from fastapi import FastAPI
from tortoise.context import TortoiseContext

from app.connector import db, runtime, workers
from app.connector.api import notify, sso, todo_api
from app.connector.config import ConnectorSettings
from app.connector.services import accounts
from app.core.security import install_secret_key
from app.core.tasks import TaskRegistry

ROUTERS = (todo_api.router, notify.router, sso.router)


def include_routes(api: FastAPI) -> None:
    for router in ROUTERS:
        api.include_router(router)

    @api.get("/healthz", include_in_schema=False)
    async def healthz() -> dict:
        return {"status": "ok", "component": "connector"}


@dataclass
class Started:
    ctx: TortoiseContext
    tasks: TaskRegistry = field(default_factory=TaskRegistry)


async def start(settings: ConnectorSettings, *, global_fallback: bool = True, run_workers: bool = True) -> Started:
    settings.ensure_secrets()
    install_secret_key(settings.secret_key.get_secret_value())
    ctx = await db.open_context(settings.effective_database_url, global_fallback=global_fallback)
    rt = await runtime.start(settings)
    await accounts.ensure_initial_admin()
    started = Started(ctx)
    if run_workers:
        started.tasks = workers.start_all(rt)
    return started


async def stop(started: Started) -> None:
    await workers.stop_all(started.tasks)
    await runtime.stop()
    await db.close_context(started.ctx)
