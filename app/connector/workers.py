"""Background work of the connector: the push queue, mapping pulls, daily log retention, bind-on-start.

The loops run under the task registry (app/core/tasks.py), which restarts a failed loop with backoff and stops
everything at shutdown; bind-on-start is one-off work, tracked so shutdown cancels it. Each gets the connector's
runtime from ``start_all``, as the console's workers get theirs.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from datetime import UTC, datetime

from app.connector import runtime
from app.connector.services import accounts, binding, interface_log, mapping, push
from app.connector.services import options as options_service
from app.connector.services.errors import ConnectorError
from app.core.tasks import TaskRegistry

log = logging.getLogger(__name__)

MAPPING_SAFETY_SECONDS = 600.0  # an incremental pull even when no notification arrived
RETENTION_SECONDS = 24 * 3600.0
SETTLE_SECONDS = 0.2  # notifications often come in bursts: one pull serves them


async def mapping_loop(rt: runtime.ConnectorRuntime) -> None:
    while True:
        try:
            await asyncio.wait_for(rt.mapping_wakeup.wait(), MAPPING_SAFETY_SECONDS)
        except TimeoutError:
            pass
        await asyncio.sleep(SETTLE_SECONDS)
        rt.mapping_wakeup.clear()
        try:
            if await binding.current() is not None:
                await mapping.pull(rt=rt)
        except ConnectorError as exc:
            log.warning("mapping pull failed: %s", exc.message)
        except Exception:
            log.exception("mapping pull failed")


async def retention_loop(rt: runtime.ConnectorRuntime) -> None:
    while True:
        try:
            opts = await options_service.load()
            removed = await interface_log.clean_up(opts.log_retention_days, datetime.now(UTC))
            await push.clean_up(opts.log_retention_days)
            if removed:
                log.info("removed %s interface log rows older than %s days", removed, opts.log_retention_days)
        except Exception:
            log.exception("interface log clean-up failed")
        await asyncio.sleep(RETENTION_SECONDS)


async def bind_on_start(rt: runtime.ConnectorRuntime) -> None:
    """Demo: bind to the configured console once it (and the access system) exist; then fill the mapping."""
    settings = rt.settings
    if settings.todo_account and not await accounts.api_account():
        await accounts.set_api_account(settings.todo_account, settings.todo_password.get_secret_value())
    if not (settings.bind_console_url and settings.bind_identifier) or await binding.current() is not None:
        return
    if settings.sso_redirect_url:
        opts = await options_service.load()
        opts.sso_redirect_url, opts.free_login_enabled, opts.scan_login_enabled = settings.sso_redirect_url, True, True
        await options_service.set_value("sso_redirect_url", opts.sso_redirect_url)
        await options_service.set_value("free_login_enabled", "1")
        await options_service.set_value("scan_login_enabled", "1")
        rt.config_changed()
    for _ in range(200):
        try:
            await binding.bind(settings.bind_console_url, settings.bind_identifier, rt=rt)
            log.info("bound to %s on start", settings.bind_console_url)
            break
        except ConnectorError as exc:
            log.info("bind on start not possible yet: %s", exc.message)
            await asyncio.sleep(3.0)
    else:
        return
    for _ in range(100):  # the demo's first sync may still be pushing people to DingTalk
        try:
            result = await mapping.pull(rt=rt)
            if result.persons:
                return
        except ConnectorError:
            pass
        await asyncio.sleep(5.0)


# The connector's background loops, started in this order.
LOOPS = (("connector-push", push.worker), ("connector-mapping", mapping_loop), ("connector-retention", retention_loop))


def start_all(rt: runtime.ConnectorRuntime) -> TaskRegistry:
    tasks = TaskRegistry()
    for name, loop in LOOPS:
        tasks.supervise(name, functools.partial(loop, rt))
    tasks.spawn("connector-bind-on-start", bind_on_start(rt))
    return tasks


async def stop_all(tasks: TaskRegistry) -> None:
    await tasks.stop()
