"""The connector's process-wide resources: one HTTP session, one rate-limited DingTalk client, the push wake-up.

Kept apart from the console's ``app.runtime`` so that neither process starts the other's workers.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import aiohttp

from app.connector.config import ConnectorSettings
from app.dingtalk.client import DingTalkClient


@dataclass
class ConnectorRuntime:
    settings: ConnectorSettings
    http: aiohttp.ClientSession
    dingtalk: DingTalkClient
    push_wakeup: asyncio.Event = field(default_factory=asyncio.Event)
    mapping_wakeup: asyncio.Event = field(default_factory=asyncio.Event)
    seen_nonces: dict[str, float] = field(default_factory=dict)
    config_version: int = 0  # bumped when options or the binding change: cached copies are then re-read


_current: ConnectorRuntime | None = None


def config_changed() -> None:
    if _current is not None:
        _current.config_version += 1


def get() -> ConnectorRuntime:
    if _current is None:
        raise RuntimeError("connector runtime not started")
    return _current


async def start(settings: ConnectorSettings) -> ConnectorRuntime:
    global _current
    http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30))
    client = DingTalkClient(
        http, oapi_base=settings.dingtalk_oapi_base, api_base=settings.dingtalk_api_base, qps=settings.dingtalk_qps
    )
    _current = ConnectorRuntime(settings=settings, http=http, dingtalk=client)
    return _current


async def stop() -> None:
    global _current
    if _current is not None:
        await _current.http.close()
        _current = None
