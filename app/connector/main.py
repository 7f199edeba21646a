"""Composition root of ``landing connector``: settings, logging, routes, pages and the lifespan that starts the
connector's database, runtime and workers. Nothing runs at import."""

from __future__ import annotations

import importlib
import logging
from contextlib import asynccontextmanager

from nicegui import app, ui

from app.connector import server
from app.connector.config import ConnectorSettings, get_settings
from app.core.logging import configure_logging

log = logging.getLogger(__name__)

PAGES = ("auth", "home", "config", "mapping", "logs", "errors", "audit")


def build(settings: ConnectorSettings | None = None) -> ConnectorSettings:
    settings = settings or get_settings()
    configure_logging(settings.log_level, settings.log_json)
    settings.ensure_secrets()
    for name in PAGES:
        importlib.import_module(f"app.connector.pages.{name}")
    server.include_routes(app)
    inner = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(a):
        started = await server.start(settings)
        try:
            async with inner(a) as state:
                yield state
        finally:
            await server.stop(started)

    app.router.lifespan_context = lifespan
    return settings


def serve(settings: ConnectorSettings | None = None) -> None:
    settings = build(settings)
    log.info("LanDing connector listening on http://%s:%s", settings.host, settings.port)
    ui.run(
        host=settings.host,
        port=settings.port,
        title="蓝钉集成组件",
        language="zh-CN",
        storage_secret=settings.session_secret.get_secret_value(),
        reload=False,
        show=False,
        fastapi_docs=True,
        show_welcome_message=False,
        uvicorn_logging_level="warning",
    )
