"""Composition root: settings, logging, secrets, database, routers, pages and workers.

Everything the console runs is named here: ``PAGE_MODULES`` (each page module declares its pages and menu entries
with ``@page``), ``_routers()`` in the order they are mounted, and ``WORKERS``, the background loops started in this
order once the database is ready (each one supervised by the runtime's task registry, app/core/tasks.py). Importing
a module starts nothing: a worker that is not in ``WORKERS`` does not run.

``build()`` wires the NiceGUI/FastAPI app; ``serve()`` builds and runs it. NiceGUI's test harness executes
``tests/ui/main_app.py``, which calls ``build()`` again for every test, so everything here must be safe to repeat.
"""

from __future__ import annotations

import importlib
import logging
import uuid
from collections.abc import Sequence

from nicegui import app, ui

from app.core import shutdown
from app.core.config import Settings, get_settings
from app.core.db import db_lifespan
from app.core.logging import configure_logging, is_expected_disconnect
from app.core.security import install_secret_key
from app.runtime import Worker
from app.services import access_notify, heartbeat, log_retention, metrics, system_params
from app.sync import resume, scheduler

log = logging.getLogger(__name__)

# The background loops of the console, started in this order (and stopped in the reverse order).
WORKERS: tuple[Worker, ...] = (
    Worker("time-zone-follow", system_params.follow_time_zone, prepare=system_params.prepare_time_zone),
    Worker("heartbeat", heartbeat.run_heartbeat, prepare=heartbeat.prepare_heartbeat),
    Worker("sync-cron", scheduler.cron_loop),
    Worker("sync-callbacks", scheduler.callback_loop, prepare=scheduler.prepare_callbacks),
    Worker("sync-resume", resume.loop),
    Worker("access-notifier", access_notify.run_notifier),
    Worker("log-retention", log_retention.run_retention),
    Worker("metrics-loop-lag", metrics.probe_loop_lag),
)


# Importing a page module records its pages; register_pages() then (re)creates the routes.
PAGE_MODULES = (
    "auth",
    "home",
    "permissions",
    "system_init",
    "system_settings",
    "settings_company",
    "settings_org",
    "settings_sub_admins",
    "settings_login_auth",
    "settings_access",
    "settings_exclusive",
    "contacts",
    "contacts_dept",
    "contacts_person",
    "sync_settings",
    "sync_logs",
)


def _import_pages() -> None:
    for name in PAGE_MODULES:
        importlib.import_module(f"app.pages.{name}")


def _install_error_pages() -> None:
    from app.components.frame import notify_error

    def on_event_error(exc: Exception) -> None:
        from app.services.errors import PermissionDenied
        from app.services.permissions import SessionEnded

        if is_expected_disconnect(exc):
            log.debug("client went away during an event handler: %s", exc)
            return
        if isinstance(exc, SessionEnded):  # the session ended while the page was open: back to the login page
            ui.navigate.to("/login?ended=1")
            return
        if isinstance(exc, PermissionDenied):  # rights changed while the page was open
            notify_error(exc.message)
            return
        ref = uuid.uuid4().hex[:8]
        log.error("unhandled error in an event handler (ref %s)", ref, exc_info=exc)
        try:
            notify_error(f"操作失败，请稍后重试；如持续出现请联系管理员（错误编号 {ref}）")
        except Exception:  # no client context (background task): the log line is all we can do
            pass

    def on_page_error(exc: Exception) -> None:
        ref = uuid.uuid4().hex[:8]
        log.error("unhandled error while building a page (ref %s)", ref, exc_info=exc)
        with ui.column().classes("absolute-center items-center"):
            ui.icon("error_outline", size="48px").classes("text-grey-5")
            ui.label("页面暂时无法显示").classes("text-h6")
            ui.label(f"请稍后重试；如持续出现请联系管理员（错误编号 {ref}）").classes("text-grey-7")
            ui.link("返回首页", "/")

    app.on_exception(on_event_error)
    app.on_page_exception(on_page_error)


def _install_browser_hardening() -> None:
    """Security headers on every answer and a websocket that refuses other origins (app/core/http_headers.py)."""
    from nicegui import core

    from app.core.http_headers import SecurityHeaders, same_origin_checker

    def base_url() -> str:
        return get_settings().effective_public_base_url

    if not any(m.cls is SecurityHeaders for m in app.user_middleware):
        try:
            app.add_middleware(SecurityHeaders, public_base_url=base_url)
        except RuntimeError:  # the test harness re-runs build() on a started app; the first one added it
            pass
    core.sio.eio.cors_allowed_origins = same_origin_checker(base_url)

    from fastapi.exceptions import RequestValidationError

    from app.core import error_pages

    app.add_exception_handler(404, error_pages.not_found)  # Chinese, instead of NiceGUI's English 404 page
    app.add_exception_handler(RequestValidationError, error_pages.bad_parameters)  # /contacts?dept=abc


def _routers() -> list:
    """Every HTTP router, in the order it is mounted (before the OpenAPI pages, which list them)."""
    from app.api import dingtalk_callback, ekp_feed, health, oidc, v1_access, v1_sync_runs
    from app.api import exports as export_files

    return [
        health.router,
        dingtalk_callback.router,
        oidc.router,
        v1_access.router,
        v1_sync_runs.router,
        ekp_feed.router,
        export_files.router,
    ]


def build(
    settings: Settings | None = None,
    *,
    generate_schemas: bool = False,
    workers: Sequence[Worker] = WORKERS,
) -> Settings:
    settings = settings or get_settings()
    configure_logging(settings.log_level, settings.log_json)
    settings.ensure_secrets()
    install_secret_key(settings.secret_key.get_secret_value())

    from app import runtime
    from app.api import fast_lane, openapi_docs
    from app.components.frame import register_pages
    from app.services import accounts

    _import_pages()
    register_pages()
    for router in _routers():
        app.include_router(router)

    openapi_docs.install(app)  # after every router: /docs and /redoc from local files
    fast_lane.install(app)
    _install_error_pages()
    _install_browser_hardening()

    async def on_ready() -> None:
        if await accounts.ensure_bootstrap_admin():
            log.info("created the initial account 'admin'; it must change its password at first login")
        await runtime.start(settings, workers=workers)
        shutdown.install()

    async def on_shutdown() -> None:
        await runtime.stop()

    app.router.lifespan_context = db_lifespan(
        app,
        settings.effective_database_url,
        migrate=not generate_schemas,
        generate_schemas=generate_schemas,
        on_ready=on_ready,
        on_shutdown=on_shutdown,
    )
    return settings


def run_kwargs(settings: Settings) -> dict:
    return {
        "host": settings.host,
        "port": settings.port,
        "title": "蓝钉管理平台",
        "language": "zh-CN",
        "storage_secret": settings.session_secret.get_secret_value(),
        "reload": False,
        "show": False,
        "fastapi_docs": False,  # openapi_docs serves /docs, /redoc and /openapi.json without a CDN
        "show_welcome_message": False,
        "uvicorn_logging_level": "warning",
        # The session cookie: HttpOnly (Starlette always), SameSite=Lax, Secure when the public address is https.
        "session_middleware_kwargs": {
            "same_site": "lax",
            "https_only": settings.effective_public_base_url.startswith("https://"),
        },
        "timeout_graceful_shutdown": shutdown.GRACE,
    }


def serve(settings: Settings | None = None, *, extra_workers: Sequence[Worker] = ()) -> None:
    """Run the console; ``extra_workers`` run after ``WORKERS`` (``landing demo`` adds its simulators)."""
    from app.core import startup_checks

    settings = settings or get_settings()
    startup_checks.require_ready(settings)  # refuses a read-only data folder or a key that does not fit the data
    shutdown.enabled = True
    settings = build(settings, workers=(*WORKERS, *extra_workers))
    if not settings.public_base_url:
        log.warning(
            "LANDING_PUBLIC_BASE_URL is not set: callback URLs and links sent to DingTalk and access systems will use "
            "%s, which other machines probably cannot reach; set it to the console's external address",
            settings.effective_public_base_url,
        )
    log.info("LanDing Console listening on http://%s:%s", settings.host, settings.port)
    ui.run(**run_kwargs(settings))
