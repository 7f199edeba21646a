"""Fixtures: the DingTalk client against the DingTalk simulator over loopback HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from dingtalk_client_helpers import APP, CORP_SPEC, Receiver, SimFactory, make_client

from app.dingtalk.client import App, DingTalkClient

simulator = pytest.importorskip("app.dingtalk.simulator")
start_simulator = getattr(simulator, "start_simulator", None)
if start_simulator is None:
    pytest.skip("the DingTalk simulator does not export start_simulator yet", allow_module_level=True)


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as s:
        yield s


@pytest.fixture
async def start_sim() -> AsyncIterator[SimFactory]:
    handles: list[Any] = []

    async def start(**options: Any) -> Any:
        options.setdefault("corps", [CORP_SPEC])
        options.setdefault("host", "127.0.0.1")
        handle = await start_simulator(**options)
        handles.append(handle)
        return handle

    yield start
    for handle in handles:
        await handle.close()


@pytest.fixture
async def sim(start_sim: SimFactory) -> Any:
    return await start_sim(qps=20)


@pytest.fixture
def client(session: aiohttp.ClientSession, sim: Any) -> DingTalkClient:
    return make_client(session, sim)


@pytest.fixture
def app() -> App:
    return APP


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    recv = Receiver()
    web_app = web.Application()
    web_app.router.add_post("/callback", recv.handle)
    runner = web.AppRunner(web_app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    recv.url = f"http://127.0.0.1:{port}/callback"
    yield recv
    await runner.cleanup()
