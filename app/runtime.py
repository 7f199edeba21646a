"""Process-wide resources created at startup and closed at shutdown: the HTTP session and the DingTalk client.

One aiohttp session and one rate-limited DingTalk client per process, shared by cron jobs, callbacks and manual
actions (DESIGN 7/8: one rate-limited client per app). Background workers register start/stop hooks here; the
composition root runs them inside the ASGI lifespan.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import aiohttp

from app.core import net_guard
from app.core.config import Settings
from app.dingtalk.client import DingTalkClient

log = logging.getLogger(__name__)


@dataclass
class Runtime:
    settings: Settings
    http: aiohttp.ClientSession
    dingtalk: DingTalkClient
    stops: list[Callable[[], Awaitable[None]]] = field(default_factory=list)


_current: Runtime | None = None
_starters: list[Callable[[Runtime], Awaitable[Callable[[], Awaitable[None]] | None]]] = []


def get() -> Runtime:
    if _current is None:
        raise RuntimeError("runtime not started: the app's lifespan creates it")
    return _current


def worker(start: Callable[[Runtime], Awaitable[Callable[[], Awaitable[None]] | None]]):
    """Register a background worker: ``start(runtime)`` runs at startup and may return an async stop function."""
    if start not in _starters:
        _starters.append(start)
    return start


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


async def start(settings: Settings, *, run_workers: bool = True) -> Runtime:
    global _current
    http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30), connector=_guarded_connector(settings))
    client = DingTalkClient(
        http, oapi_base=settings.dingtalk_oapi_base, api_base=settings.dingtalk_api_base, qps=settings.dingtalk_qps
    )
    _current = Runtime(settings=settings, http=http, dingtalk=client)
    if run_workers:
        for starter in list(_starters):
            try:
                stop = await starter(_current)
            except Exception:  # one broken worker must not keep the console from serving
                log.exception("worker %s failed to start", getattr(starter, "__name__", starter))
                continue
            if stop is not None:
                _current.stops.append(stop)
    return _current


async def stop() -> None:
    global _current
    if _current is None:
        return
    for stop_fn in reversed(_current.stops):
        try:
            await stop_fn()
        except Exception:
            log.exception("worker failed to stop cleanly")
    await _current.http.close()
    _current = None
