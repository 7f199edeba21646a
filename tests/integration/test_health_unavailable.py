"""/healthz answers 503 when the database cannot be reached, so a load balancer takes the replica out."""

from __future__ import annotations

import json

from tortoise.context import TortoiseContext

from app.api import health


async def test_healthz_is_503_without_a_database(caplog) -> None:
    async with TortoiseContext():  # an empty context: no connection configured
        response = await health.healthz()
    assert response.status_code == 503
    assert json.loads(response.body) == {"status": "unavailable", "database": False}
    assert "database ping failed" in caplog.text
