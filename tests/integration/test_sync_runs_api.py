"""``/api/v1/orgs/{id}/sync-runs`` over real HTTP with personal API tokens: start, list, show, 401/403/404/409,
revocation and the owner's current role; the sync itself runs against the DingTalk and EKP simulators."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import aiohttp
import pytest
import uvicorn
from fastapi import FastAPI

from app.api import v1_sync_runs
from app.models.accounts import Role, RoleGrant
from app.models.api_tokens import ApiToken
from app.models.audit import AuditLog
from app.models.sync import Lease, RunResult, SyncRun
from app.services import api_tokens
from app.services.permissions import Actor
from app.sync import lease
from tests import factories
from tests.integration import sync_env
from tests.integration.access_support import free_port
from tests.integration.sync_env import SyncEnv


@pytest.fixture
async def api(orm: str) -> AsyncIterator[tuple[SyncEnv, str]]:
    env = await sync_env.make_env()
    app = FastAPI()
    app.include_router(v1_sync_runs.router)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
    task = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 - uvicorn offers only this flag
        await asyncio.sleep(0.02)
    try:
        yield env, f"http://127.0.0.1:{port}/api/v1/orgs"
    finally:
        from app.sync import runner

        for org_id in list(runner._tasks):  # let a run the test started close its row before the DB goes
            await runner._tasks[org_id]
        server.should_exit = True
        await task
        await sync_env.close_env(env)


async def admin_with_token(org, login: str, role: Role = Role.ORG_ADMIN) -> tuple[Actor, str]:
    account = await factories.account(login, role, org)
    actor = Actor(
        account_id=account.id,
        login=login,
        display_name=login,
        is_super=role == Role.SUPER_ADMIN,
        org_roles={org.id: role} if org else {},
    )
    created = await api_tokens.create_token(actor, f"{login} 的脚本")
    return actor, created.token


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def call(http: aiohttp.ClientSession, method: str, url: str, token: str | None, **kw) -> tuple[int, dict]:
    headers = bearer(token) if token else {}
    async with http.request(method, url, headers=headers, **kw) as resp:
        return resp.status, await resp.json()


async def wait_finished(http: aiohttp.ClientSession, url: str, token: str) -> dict:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        status, body = await call(http, "GET", url, token)
        assert status == 200, body
        if body["result"] != "running":
            return body
        await asyncio.sleep(0.2)
    raise AssertionError(f"run {url} still running")


async def test_token_starts_a_run_lists_and_shows_it(api) -> None:
    env, base = api
    _, token = await admin_with_token(env.org, "syncbot")
    async with aiohttp.ClientSession() as http:
        status, started = await call(http, "POST", f"{base}/{env.org.id}/sync-runs", token, json={"full": True})
        assert status == 202, started
        assert started["orgId"] == env.org.id and started["kind"] == "全量" and started["full"] is True
        run = await wait_finished(http, f"{base}/{env.org.id}/sync-runs/{started['id']}", token)
        assert run["result"] == "success", run
        assert run["resultLabel"] == "成功" and run["endedAt"] and "从EKP同步部门获取" in run["summary"]
        assert run["counters"], run
        # What the run did is visible in DingTalk: every available EKP person is there.
        ekp_people = [e for e in env.ekp.state.elements.values() if e.type.value == "person" and e.is_available]
        assert {p.mobile_no for p in ekp_people} <= {u.mobile for u in env.ding_users().values()}

        status, second = await call(http, "POST", f"{base}/{env.org.id}/sync-runs", token)  # no body: 增量
        assert status == 202 and second["kind"] == "增量"
        await wait_finished(http, f"{base}/{env.org.id}/sync-runs/{second['id']}", token)

        status, page = await call(http, "GET", f"{base}/{env.org.id}/sync-runs?page=1&pageSize=1", token)
        assert status == 200 and page["total"] == 2 and page["pageSize"] == 1
        assert [r["id"] for r in page["items"]] == [second["id"]]
        status, page2 = await call(http, "GET", f"{base}/{env.org.id}/sync-runs?page=2&pageSize=1", token)
        assert [r["id"] for r in page2["items"]] == [started["id"]]
        status, missing = await call(http, "GET", f"{base}/{env.org.id}/sync-runs/999999", token)
        assert status == 404 and missing["errmsg"] == "同步日志不存在"
        status, bad = await call(http, "POST", f"{base}/{env.org.id}/sync-runs", token, json={"full": "sometimes"})
        assert status == 400 and "full" in bad["errmsg"]
    assert await AuditLog.filter(action="sync.run", account_login="syncbot").count() == 2
    token_row = await ApiToken.get(account__login="syncbot")
    assert token_row.last_used_at is not None and token_row.last_used_ip == "127.0.0.1"


async def test_no_bad_or_revoked_token_is_401(api) -> None:
    env, base = api
    actor, token = await admin_with_token(env.org, "syncbot")
    url = f"{base}/{env.org.id}/sync-runs"
    async with aiohttp.ClientSession() as http:
        async with http.get(url) as resp:
            assert resp.status == 401 and resp.headers["WWW-Authenticate"].startswith("Bearer")
            assert "Bearer" in (await resp.json())["errmsg"]
        status, body = await call(http, "GET", url, "ldt_not-a-real-token")
        assert status == 401
        status, body = await call(http, "GET", url, token[:-1] + ("A" if token[-1] != "A" else "B"))
        assert status == 401
        status, _ = await call(http, "GET", url, token)
        assert status == 200
        token_id = (await api_tokens.list_tokens(actor))[0].id
        await api_tokens.revoke_token(actor, token_id)
        status, body = await call(http, "GET", url, token)
        assert status == 401 and body["errmsg"] == "API 令牌已撤销"
        status, body = await call(http, "POST", url, token, json={"full": False})
        assert status == 401
    assert not await SyncRun.exists()
    assert await AuditLog.exists(action="api_token.revoke", account_login="syncbot")


async def test_token_is_scoped_to_its_owner_orgs_and_current_role(api) -> None:
    env, base = api
    other = await factories.org("另一家公司", "dingcorp2")
    _, other_token = await admin_with_token(other, "otheradmin")
    async with aiohttp.ClientSession() as http:
        status, body = await call(http, "POST", f"{base}/{env.org.id}/sync-runs", other_token, json={"full": False})
        assert status == 403, body
        status, body = await call(http, "GET", f"{base}/{env.org.id}/sync-runs", other_token)
        assert status == 403
        assert not await SyncRun.filter(org_id=env.org.id).exists()

        # A department admin holds no 通讯录同步 / 同步日志 permission: the token can do no more than its owner.
        _, dept_token = await admin_with_token(env.org, "deptadmin", Role.DEPT_ADMIN)
        status, _ = await call(http, "POST", f"{base}/{env.org.id}/sync-runs", dept_token, json={})
        assert status == 403

        # The owner's role is read on every call: once the role is taken away the token no longer works.
        _, token = await admin_with_token(env.org, "leaving")
        status, _ = await call(http, "GET", f"{base}/{env.org.id}/sync-runs", token)
        assert status == 200
        await RoleGrant.filter(account__login="leaving").delete()
        status, body = await call(http, "GET", f"{base}/{env.org.id}/sync-runs", token)
        assert status == 401, body

        # A super admin's token reaches every org; an org that does not exist is 404.
        _, super_token = await admin_with_token(None, "root", Role.SUPER_ADMIN)
        status, _ = await call(http, "GET", f"{base}/{other.id}/sync-runs", super_token)
        assert status == 200
        status, body = await call(http, "GET", f"{base}/987654/sync-runs", super_token)
        assert status == 404 and body["errmsg"] == "组织不存在或已解散"


async def test_a_run_already_going_is_409(api) -> None:
    env, base = api
    _, token = await admin_with_token(env.org, "syncbot")
    # Another replica is running this org's sync: it holds the org's lease row.
    await Lease.create(
        name=lease.org_lease(env.org.id),
        holder="replica-2:4242:abcd",
        expires_at=datetime.now(UTC) + timedelta(minutes=2),
    )
    async with aiohttp.ClientSession() as http:
        status, body = await call(http, "POST", f"{base}/{env.org.id}/sync-runs", token, json={"full": False})
        assert status == 409 and body["errmsg"] == "同步正在进行中"
        assert not await SyncRun.exists()
        await Lease.filter(name=lease.org_lease(env.org.id)).delete()
        status, started = await call(http, "POST", f"{base}/{env.org.id}/sync-runs", token, json={"full": False})
        assert status == 202
        run = await wait_finished(http, f"{base}/{env.org.id}/sync-runs/{started['id']}", token)
        assert run["result"] in (RunResult.SUCCESS.value, RunResult.WARNING.value), run
