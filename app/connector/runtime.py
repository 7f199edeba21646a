"""The connector's process-wide resources: one HTTP session, one rate-limited DingTalk client, the push wake-up.

Kept apart from the console's ``app.runtime`` so that neither process starts the other's workers. Services and workers
get this runtime (or the piece of it they use) as a parameter; ``get()`` is for the edges only: the server's start,
the pages' ``running()`` helper and the API routes' dependency.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import aiohttp

from app.connector.config import ConnectorSettings
from app.core import net_guard
from app.dingtalk.client import DingTalkClient

# The connector has no 系统设置 page of its own for this: its operator allows ranges in its settings.
ALLOWED_RANGES_HINT = "请在集成组件的配置 LANDING_CONNECTOR_OUTBOUND_ALLOWED_RANGES 中添加该网段（如 10.0.0.0/8）"


@dataclass
class ConnectorRuntime:
    settings: ConnectorSettings
    http: aiohttp.ClientSession
    dingtalk: DingTalkClient
    # Its own outbound policy (the console's lives in that process): 管理平台地址 is typed by an admin.
    net_policy: net_guard.Policy = field(default_factory=net_guard.Policy)
    push_wakeup: asyncio.Event = field(default_factory=asyncio.Event)
    mapping_wakeup: asyncio.Event = field(default_factory=asyncio.Event)
    seen_nonces: dict[str, float] = field(default_factory=dict)
    config_version: int = 0  # bumped when options or the binding change: cached copies are then re-read

    def config_changed(self) -> None:
        self.config_version += 1


_current: ConnectorRuntime | None = None


def get() -> ConnectorRuntime:
    if _current is None:
        raise RuntimeError("connector runtime not started")
    return _current


async def start(settings: ConnectorSettings) -> ConnectorRuntime:
    global _current
    policy = outbound_policy(settings)
    http = aiohttp.ClientSession(
        timeout=aiohttp.ClientTimeout(total=30), connector=net_guard.GuardedConnector(policy=policy)
    )
    client = DingTalkClient(
        http, oapi_base=settings.dingtalk_oapi_base, api_base=settings.dingtalk_api_base, qps=settings.dingtalk_qps
    )
    _current = ConnectorRuntime(settings=settings, http=http, dingtalk=client, net_policy=policy)
    return _current


def outbound_policy(settings: ConnectorSettings) -> net_guard.Policy:
    """Internal ranges are refused unless the operator lists them; the DingTalk bases are settings, so trusted."""
    bases = (settings.dingtalk_oapi_base, settings.dingtalk_api_base, settings.dingtalk_login_base)
    trusted = [e for e in map(net_guard.trusted_endpoint, bases) if e]
    return net_guard.Policy(net_guard.split_ranges(settings.outbound_allowed_ranges), trusted, hint=ALLOWED_RANGES_HINT)


async def stop() -> None:
    global _current
    if _current is not None:
        await _current.http.close()
        _current = None
