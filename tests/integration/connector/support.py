"""Everything a connector test needs on loopback: EKP and DingTalk simulators, a synced console serving its public
API (bind, mapping feed, notifications), and the connector itself with its own database, in its own Tortoise
context (the console's ORM stays the process default)."""

from __future__ import annotations

import asyncio
import base64
import contextvars
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import aiohttp
import uvicorn
from cryptography.fernet import Fernet
from fastapi import FastAPI

from app import runtime
from app.api import ekp_feed, v1_access
from app.connector import runtime as connector_runtime
from app.connector import server as connector_server
from app.connector.config import ConnectorSettings
from app.connector.services import accounts
from app.core.security import install_secret_key
from app.models.sync import RunTrigger
from app.services import access_notify, access_systems, mapping_feed
from app.services.access_systems import SystemInput
from app.sync import runner
from tests.conftest import PG_DSN, _create_pg_database, _drop_pg_database
from tests.integration import sync_env

T = TypeVar("T")
KEY = Fernet.generate_key().decode()
IDENTIFIER = "ekp-connector-01"
API_ACCOUNT = "ekp-todo"
API_PASSWORD = "TodoApi-2026x"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def basic(account: str = API_ACCOUNT, password: str = API_PASSWORD) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{account}:{password}".encode()).decode()}


async def serve(api: FastAPI, context: contextvars.Context | None = None) -> tuple[uvicorn.Server, asyncio.Task, str]:
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(api, host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
    task = asyncio.create_task(server.serve(), context=context)
    while not server.started:  # noqa: ASYNC110 - uvicorn offers only this flag
        await asyncio.sleep(0.02)
    return server, task, f"http://127.0.0.1:{port}"


@dataclass
class World:
    env: sync_env.SyncEnv
    console_url: str
    connector_url: str
    context: contextvars.Context
    http: aiohttp.ClientSession
    tmp: Path

    @property
    def rt(self) -> connector_runtime.ConnectorRuntime:
        """The connector's runtime, for calling its services as its pages and routes do."""
        return connector_runtime.get()

    async def run(self, work: Awaitable[T] | Callable[[], Awaitable[T]]) -> T:
        """Run connector code in the connector's Tortoise context; querysets must be built inside: pass a lambda."""

        async def wrapped() -> T:
            return await (work() if callable(work) else work)

        return await asyncio.create_task(wrapped(), context=self.context.copy())

    async def todo(self, method: str, body: dict[str, Any], auth: dict[str, str] | None = None) -> tuple[int, dict]:
        async with self.http.post(
            f"{self.connector_url}/api/sys-notify/sysNotifyTodoRestService/{method}",
            json=body,
            headers=auth or basic(),
        ) as response:
            return response.status, await response.json()

    async def sim(self, method: str, path: str, json: Any = None) -> Any:
        return await self.env.sim(method, path, json)

    async def sync(self) -> None:
        run = await runner.run(self.env.org.id, RunTrigger.MANUAL, rt=runtime.get())
        assert run.result.value != "失败", run.summary


async def wait_until(check, what: str, within: float = 40.0, interval: float = 0.1):
    deadline = asyncio.get_running_loop().time() + within
    while True:
        value = await check()
        if value:
            return value
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(interval)


class Harness:
    """Start with ``await Harness.start(tmp_path)``; ``await harness.close()``."""

    def __init__(self) -> None:
        self.parts: list[Any] = []

    @classmethod
    async def start(
        cls, tmp_path: Path, *, qps: int = 200, persons: int = 12, sync: bool = True, connector_qps: float | None = None
    ) -> tuple[Harness, World]:
        self = cls()
        install_secret_key(KEY)
        mapping_feed.SETTLE_MS = 300
        access_notify.POLL_SECONDS = 0.1
        env = await sync_env.make_env(depts=4, persons=persons, qps=qps)
        self.parts.append(("env", env))
        admin = await sync_env.org_admin(env.org)
        await access_systems.save_system(
            admin,
            None,
            SystemInput(
                name="EKP系统",
                identifier=IDENTIFIER,
                auth_account="ekp-bind",
                auth_password="EkpBind-2026x",
                scan_appid=env.org.appkey,
                scan_appsecret=env.org.appsecret,
            ),
        )
        if sync:
            await runner.run(env.org.id, RunTrigger.MANUAL, rt=runtime.get())
        api = FastAPI()
        api.include_router(v1_access.router)
        api.include_router(ekp_feed.router)
        console_server, console_task, console_url = await serve(api)
        self.parts.append(("server", (console_server, console_task)))
        notifier = runtime.Worker("access-notifier", access_notify.run_notifier)
        stop_notifier = await runtime.run_worker(_console_runtime(), notifier)
        self.parts.append(("notifier", stop_notifier))
        access_systems.bind_limiter.reset()

        port = free_port()
        connector_db = ""
        if PG_DSN:  # the connector's own database, next to (not inside) the console's
            connector_db, name = await _create_pg_database()
            self.parts.append(("pg", name))
        settings = ConnectorSettings(
            data_dir=tmp_path / "connector",
            database_url=connector_db,
            port=port,
            public_base_url=f"http://127.0.0.1:{port}",
            secret_key=KEY,
            session_secret="s" * 40,
            dingtalk_oapi_base=env.ding.base_url,
            dingtalk_api_base=env.ding.base_url,
            dingtalk_login_base=env.ding.base_url,
            dingtalk_qps=connector_qps or qps,
        )
        context = contextvars.copy_context()
        started = await asyncio.create_task(connector_server.start(settings, global_fallback=False), context=context)
        self.parts.append(("connector", (started, context)))
        await asyncio.create_task(accounts.set_api_account(API_ACCOUNT, API_PASSWORD), context=context.copy())
        app = FastAPI()
        connector_server.include_routes(app)
        c_server, c_task, _ = await _serve_on(app, port, context.copy())
        self.parts.append(("server", (c_server, c_task)))
        world = World(env, console_url, f"http://127.0.0.1:{port}", context, env.http, tmp_path)
        return self, world

    async def close(self) -> None:
        for kind, part in reversed(self.parts):
            if kind == "server":
                server, task = part
                server.should_exit = True
                await task
            elif kind == "notifier":
                await part()
            elif kind == "connector":
                started, context = part
                await asyncio.create_task(connector_server.stop(started), context=context.copy())
            elif kind == "env":
                await sync_env.close_env(part)
            elif kind == "pg":
                await _drop_pg_database(part)
        access_systems.bind_limiter.reset()
        access_systems.auth_failure_limiter.reset()


def _console_runtime():
    from app import runtime

    return runtime.get()


async def _serve_on(api: FastAPI, port: int, context: contextvars.Context):
    server = uvicorn.Server(uvicorn.Config(api, host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
    task = asyncio.create_task(server.serve(), context=context)
    while not server.started:  # noqa: ASYNC110 - uvicorn offers only this flag
        await asyncio.sleep(0.02)
    return server, task, f"http://127.0.0.1:{port}"
