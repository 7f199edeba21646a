"""A DingTalk simulator, the process runtime pointed at it, and our callback endpoint on a real loopback port.

The simulator performs the real check_url handshake against the callback URL while an org is registered, so the
endpoint has to be reachable over HTTP: it is served by uvicorn inside the test's event loop.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
import uvicorn
from fastapi import FastAPI

from app import runtime
from app.api import dingtalk_callback
from app.core.config import Settings
from app.dingtalk.simulator import start_simulator
from app.services.permissions import Actor

CORP_A = "dingcorpa0001:dingkeya0001:secretA-0123456789abcdef:1001"
CORP_B = "dingcorpb0002:dingkeyb0002:secretB-0123456789abcdef:1002"
# The bootstrap account the env fixture creates (services re-read the actor from the database on every call).
SUPER = Actor(account_id=1, login="admin", display_name="管理员", is_super=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Env:
    sim: object
    callback_base: str


@pytest.fixture
async def env(orm: str, tmp_path) -> AsyncIterator[Env]:
    from app.services import accounts

    await accounts.ensure_bootstrap_admin()
    sim = await start_simulator(corps=[CORP_A, CORP_B], demo=True, qps=200)
    settings = Settings(
        data_dir=tmp_path / "data",
        dingtalk_oapi_base=sim.base_url,
        dingtalk_api_base=sim.base_url,
        dingtalk_qps=200,
        public_base_url="http://127.0.0.1:1",
    )
    await runtime.start(settings, run_workers=False)
    api = FastAPI()
    api.include_router(dingtalk_callback.router)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(api, host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
    task = asyncio.create_task(server.serve())
    for _ in range(500):  # uvicorn offers no "started" event to wait on
        if server.started:
            break
        await asyncio.sleep(0.02)
    try:
        yield Env(sim, f"http://127.0.0.1:{port}")
    finally:
        from app.services import orgs

        await orgs.wait_for_baselines(runtime.get())
        server.should_exit = True
        await task
        await runtime.stop()
        await sim.close()
