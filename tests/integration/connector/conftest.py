"""Fixtures of the connector tests: ``world`` is a connector bound to a synced console, its mapping pulled."""

from __future__ import annotations

import pytest

from app.connector.services import binding, mapping
from tests.integration.connector.support import IDENTIFIER, Harness


@pytest.fixture
async def unbound(orm, tmp_path):
    harness, world = await Harness.start(tmp_path)
    try:
        yield world
    finally:
        await harness.close()


@pytest.fixture
async def world(unbound):
    await unbound.run(binding.bind(unbound.console_url, IDENTIFIER, rt=unbound.rt))
    await unbound.run(mapping.pull(rt=unbound.rt))
    return unbound
