"""Helpers for the access-system tests (not collected): our API on a loopback port and a notification receiver."""

from __future__ import annotations

import asyncio
import base64
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from aiohttp import web
from cryptography.fernet import Fernet
from fastapi import FastAPI

from app import runtime
from app.api import ekp_feed, v1_access
from app.core import change_tracking
from app.core.config import Settings
from app.models.accounts import Account, Role
from app.models.contacts import Department, Person
from app.models.orgs import Org
from app.services import access_notify, access_systems
from app.services.permissions import Actor
from tests import factories

FEED = "/api/lding-console/ldingOrgRestService"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def basic(account: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{account}:{password}".encode()).decode()
    # What EKP's component sends (ekp.md 5.1): JSON content type, Basic auth, the body `null`.
    return {"Authorization": f"Basic {token}", "Content-Type": "application/json"}


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """A business system's 接收通知接口: records every POST and answers with ``status``."""

    url: str = ""
    status: int = 200
    received: list[Received] = field(default_factory=list)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    async def handle(self, request: web.Request) -> web.Response:
        self.received.append(Received(dict(request.headers), await request.read()))
        self.arrived.set()
        return web.json_response({"ok": self.status == 200}, status=self.status)

    async def next(self, within: float = 15.0) -> Received:
        count = len(self.received)
        while len(self.received) <= count:
            self.arrived.clear()
            await asyncio.wait_for(self.arrived.wait(), within)
        return self.received[-1]


@asynccontextmanager
async def receiver() -> AsyncIterator[Receiver]:
    rec = Receiver()
    web_app = web.Application()
    web_app.router.add_post("/ekp/third/lding/notify", rec.handle)
    runner = web.AppRunner(web_app)
    await runner.setup()
    port = free_port()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    rec.url = f"http://127.0.0.1:{port}/ekp/third/lding/notify"
    try:
        yield rec
    finally:
        await runner.cleanup()


@asynccontextmanager
async def console(tmp_path) -> AsyncIterator[str]:
    """Our access API and mapping feed on a loopback port, with the notification worker running."""
    api = FastAPI()
    api.include_router(v1_access.router)
    api.include_router(ekp_feed.router)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(api, host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
    task = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 - uvicorn offers only this flag
        await asyncio.sleep(0.02)
    settings = Settings(data_dir=tmp_path / "data", secret_key=Fernet.generate_key().decode(), session_secret="x" * 32)
    rt = await runtime.start(settings, run_workers=False)
    stop = await runtime.run_worker(rt, runtime.Worker("access-notifier", access_notify.run_notifier))
    access_systems.bind_limiter.reset()
    access_systems.auth_failure_limiter.reset()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        access_systems.bind_limiter.reset()  # the limiter is per process: leave no spent budget to other tests
        access_systems.auth_failure_limiter.reset()
        await stop()
        await runtime.stop()
        server.should_exit = True
        await task


async def org_admin(org: Org, login: str = "orgadmin") -> Actor:
    account = await Account.get_or_none(login=login) or await factories.account(login, Role.ORG_ADMIN, org)
    return Actor(
        account_id=account.id,
        login=login,
        display_name=login,
        org_roles={org.id: Role.ORG_ADMIN},
        current_org_id=org.id,
    )


async def seed_contacts(org: Org) -> dict[str, Any]:
    """A small directory as a sync would leave it: EKP ids, DingTalk ids and feed times."""
    root = await Department.get(org_id=org.id, parent=None)
    t = change_tracking.now_ms() - 60_000
    rd = await Department.create(
        org=org, parent=root, name="研发部", path="/", depth=1, source_id="ekp-d-rd", ding_id=100, feed_time=t
    )
    rd.path = f"{root.path}{rd.id}/"
    await rd.save(update_fields=["path"])
    local = await Department.create(  # created in the console only: no EKP id, so not in the feed
        org=org, parent=root, name="临时组", path="/", depth=1, ding_id=101, feed_time=t + 1
    )
    people = {
        "zhang": await Person.create(
            org=org,
            name="张三",
            main_dept=rd,
            login_name="zhangsan",
            mobile="13800000001",
            source_id="ekp-p-zhang",
            ding_userid="u-zhang",
            feed_time=t + 2,
        ),
        "li": await Person.create(  # no EKP id, no login name: EKP resolves by mobile
            org=org,
            name="李四",
            main_dept=rd,
            mobile="13800000002",
            ding_userid="u-li",
            feed_time=t + 3,
        ),
        "wang": await Person.create(  # not in DingTalk yet: nothing to map
            org=org,
            name="王五",
            main_dept=rd,
            login_name="wangwu",
            source_id="ekp-p-wang",
            feed_time=t + 4,
        ),
    }
    return {"root": root, "rd": rd, "local": local, "t": t, **people}
