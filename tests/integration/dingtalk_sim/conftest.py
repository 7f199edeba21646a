"""Fixtures: a simulator on loopback, a plain aiohttp session and a tiny callback receiver.

Tests speak raw HTTP to the simulator (no project client) and assert what a DingTalk peer would see.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp import web
from sim_helpers import AGENTID, APPKEY, APPKEY2, APPSECRET, APPSECRET2, CORP2, CORPID, TIME_SCALE, Api, Receiver

from app.dingtalk.crypto import generate_aes_key
from app.dingtalk.simulator import SimulatorHandle, start_simulator


@pytest.fixture
async def sim() -> AsyncIterator[SimulatorHandle]:
    handle = await start_simulator(
        corps=[f"{CORPID}:{APPKEY}:{APPSECRET}:{AGENTID}", f"{CORP2}:{APPKEY2}:{APPSECRET2}"],
        time_scale=TIME_SCALE,
        qps=1000,
    )
    try:
        yield handle
    finally:
        await handle.close()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
def api(sim: SimulatorHandle, http: aiohttp.ClientSession) -> Api:
    return Api(http, sim.base_url)


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    recv = Receiver(token="callbacktoken01", aes_key=generate_aes_key(), key_id=CORPID)
    app = web.Application()
    app.router.add_post("/api/ding_console/contacts/callback", recv.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    recv.url = f"http://127.0.0.1:{port}/api/ding_console/contacts/callback?corpid={CORPID}"
    try:
        yield recv
    finally:
        await runner.cleanup()
