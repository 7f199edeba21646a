"""Process-wide resources created at startup and closed at shutdown: the HTTP session, the DingTalk client and the
background tasks.

One aiohttp session and one rate-limited DingTalk client per process, shared by cron jobs, callbacks and manual
actions (DESIGN 7/8: one rate-limited client per app). The workers to run are named by the caller (the composition
root's ``WORKERS``), never collected from imports: importing a module starts nothing. Each worker's loop runs under
the task registry (app/core/tasks.py), which restarts it with backoff when it fails and stops it at shutdown; the
worker gets this runtime as its argument. Services and the sync engine are handed it (or the piece they use) by
their caller; ``get()`` / ``current()`` are for the edges: the lifespan, pages (``frame.running()``), API routes
(``app.api.running``) and the CLI.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from app.core import net_guard
from app.core.config import Settings
from app.core.tasks import TaskRegistry
from app.dingtalk.client import DingTalkClient

log = logging.getLogger(__name__)


@dataclass
class Runtime:
    settings: Settings
    http: aiohttp.ClientSession
    dingtalk: DingTalkClient
    tasks: TaskRegistry = field(default_factory=TaskRegistry)
    stops: list[Callable[[], Awaitable[None]]] = field(default_factory=list)


Stop = Callable[[], Awaitable[None]]


@dataclass(frozen=True)
class Worker:
    """A background worker: ``prepare(rt)`` runs before the console serves (and may return an async clean-up run
    after the loop stopped); ``run(rt)`` is the loop, supervised under ``name``. Either may be left out."""

    name: str
    run: Callable[[Runtime], Coroutine[Any, Any, Any]] | None = None
    prepare: Callable[[Runtime], Awaitable[Stop | None]] | None = None


_current: Runtime | None = None
# How long shutdown waits for cancelled tasks (a sync run closing its row) after the server's own grace period:
# together they stay inside app/core/shutdown.py's hard limit.
STOP_WAIT = 3.0


def get() -> Runtime:
    if _current is None:
        raise RuntimeError("runtime not started: the app's lifespan creates it")
    return _current


def current() -> Runtime | None:
    """The runtime when one is started (the console, the CLI), else None (unit tests of one stage)."""
    return _current


async def run_worker(rt: Runtime, worker: Worker) -> Stop:
    """Start one worker now; returns the function that stops it (the runtime's stop also does, once)."""
    prepared = await worker.prepare(rt) if worker.prepare is not None else None
    task = rt.tasks.supervise(worker.name, lambda: worker.run(rt)) if worker.run is not None else None
    cleaned = False

    async def cleanup() -> None:
        nonlocal cleaned
        if prepared is not None and not cleaned:
            cleaned = True
            await prepared()

    async def stop() -> None:
        if task is not None and not task.done():
            task.cancel()
            await asyncio.wait([task])
        await cleanup()

    rt.stops.append(cleanup)
    return stop


def _guarded_connector(settings: Settings) -> aiohttp.TCPConnector:
    """Every connection of the shared session is checked against the outbound policy (app/core/net_guard.py).

    The DingTalk bases are the operator's settings and trusted as they are; every other host is a URL somebody
    typed (EKP 同步地址, 接收通知接口 ...) and may reach an internal address only inside the allowed ranges.
    """
    from app.services import security_settings

    trusted = [
        e for e in map(net_guard.trusted_endpoint, (settings.dingtalk_oapi_base, settings.dingtalk_api_base)) if e
    ]
    net_guard.install_policy(
        net_guard.Policy(
            net_guard.split_ranges(settings.outbound_allowed_ranges),
            trusted,
            provider=security_settings.allowed_ranges,
        )
    )
    return net_guard.GuardedConnector()


async def start(settings: Settings, *, workers: Sequence[Worker] = (), run_workers: bool = True) -> Runtime:
    """Open the shared clients and start ``workers`` in order (none when ``run_workers`` is false)."""
    global _current
    http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30), connector=_guarded_connector(settings))
    client = DingTalkClient(
        http, oapi_base=settings.dingtalk_oapi_base, api_base=settings.dingtalk_api_base, qps=settings.dingtalk_qps
    )
    _current = Runtime(settings=settings, http=http, dingtalk=client)
    if run_workers:
        for worker in workers:
            try:
                await run_worker(_current, worker)
            except Exception:  # one broken worker must not keep the console from serving
                log.exception("worker %s failed to start", worker.name)
    return _current


async def stop() -> None:
    global _current
    if _current is None:
        return
    await _current.tasks.stop(max_wait=STOP_WAIT)  # loops first, then their clean-ups, then the shared session
    for stop_fn in reversed(_current.stops):
        try:
            await stop_fn()
        except Exception:
            log.exception("worker failed to stop cleanly")
    await _current.http.close()
    _current = None
