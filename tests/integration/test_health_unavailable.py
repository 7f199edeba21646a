"""/healthz answers 503 with the reason when the database does not accept a write, so a load balancer takes the
replica out and whoever looks sees why."""

from __future__ import annotations

import json

from tortoise.context import TortoiseContext

from app.api import health
from app.services import heartbeat


async def test_healthz_is_503_without_a_database(caplog) -> None:
    async with TortoiseContext():  # an empty context: no connection configured
        heartbeat._last = None
        response = await health.healthz(None)  # no runtime started, as the dependency would find
    assert response.status_code == 503
    body = json.loads(response.body)
    assert body["status"] == "unavailable" and body["database"] is False
    assert body["reason"].startswith("数据库无法写入")
    assert "database write check failed" in caplog.text
