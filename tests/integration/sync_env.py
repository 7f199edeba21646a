"""Shared set-up for the contacts sync tests: both simulators on loopback, the runtime pointed at them, one org."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest

from app import runtime
from app.core.config import Settings
from app.dingtalk.simulator import start_simulator as start_dingtalk
from app.ekp.simulator import start_simulator as start_ekp
from app.models.orgs import Org
from app.models.sync import SyncSettings
from tests import factories

CORPID = "dingcorp1"


@dataclass
class SyncEnv:
    org: Org
    ding: Any
    ekp: Any
    http: aiohttp.ClientSession

    @property
    def corp(self) -> Any:
        return self.ding.state.corps[CORPID]

    async def sim(self, method: str, path: str, json: Any = None) -> Any:
        async with self.http.request(method, self.ding.base_url + path, json=json) as resp:
            assert resp.status < 300, await resp.text()
            return await resp.json()

    async def ekp_sim(self, method: str, path: str, json: Any = None) -> Any:
        async with self.http.request(method, self.ekp.control_url + path, json=json) as resp:
            assert resp.status < 300, await resp.text()
            return await resp.json()

    async def counters(self) -> dict[str, int]:
        return (await self.sim("GET", "/_sim/counters"))["calls"]

    async def reset_counters(self) -> None:
        await self.sim("DELETE", "/_sim/counters")

    def ding_users(self) -> dict[str, Any]:
        return dict(self.corp.users)

    def ding_depts(self) -> dict[int, Any]:
        return dict(self.corp.departments)


async def make_env(*, depts: int = 12, persons: int = 40, qps: int = 200, threshold: int = 100) -> SyncEnv:
    org = await factories.org("叮当科技", CORPID, is_main=True)
    ding = await start_dingtalk(
        corps=[f"{CORPID}:{org.appkey}:{org.appsecret}:{org.agent_id}"], qps=qps, time_scale=0.01
    )
    ekp = await start_ekp(user="ekp", password="ekp-pass", depts=depts, persons=persons, seed=7)
    settings = Settings(
        dingtalk_oapi_base=ding.base_url, dingtalk_api_base=ding.base_url, dingtalk_qps=qps, ekp_page_size=25
    )
    rt = await runtime.start(settings, run_workers=False)
    await SyncSettings.create(
        org=org,
        delete_threshold=threshold,
        source_enabled=True,
        source_name="EKP",
        source_url=ekp.base_url,
        source_user="ekp",
        source_password="ekp-pass",
    )
    return SyncEnv(org=org, ding=ding, ekp=ekp, http=rt.http)


async def close_env(env: SyncEnv) -> None:
    await runtime.stop()
    await env.ding.close()
    await env.ekp.close()


@pytest.fixture
async def env(orm: str) -> AsyncIterator[SyncEnv]:
    e = await make_env()
    try:
        yield e
    finally:
        await close_env(e)


async def org_admin(org: Org) -> Any:
    from app.models.accounts import Role
    from app.services.permissions import Actor

    account = await factories.account(f"admin{org.id}", Role.ORG_ADMIN, org)
    return Actor(
        account_id=account.id,
        login=account.login,
        display_name=account.login,
        org_roles={org.id: Role.ORG_ADMIN},
        current_org_id=org.id,
    )


def app_of(org: Org) -> Any:
    from app.dingtalk.client import App

    return App(org.corpid, org.appkey, org.appsecret, org.agent_id)
