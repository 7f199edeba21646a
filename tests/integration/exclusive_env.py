"""Set-up for the 专属钉钉 tests: the DingTalk simulator on loopback, the runtime pointed at it, an org, a bucket."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest

from app import runtime
from app.core.config import Settings
from app.dingtalk.simulator import start_simulator
from app.models.accounts import Role
from app.models.orgs import Org
from app.services.permissions import Actor
from tests import factories

CORPID = "dingexclusive1"
OSS = "https://acme-archive.oss-cn-hangzhou.aliyuncs.com"
KEY_ID = "LTAI5tAcmeArchive01"
KEY_SECRET = "AcmeSecret0123456789abcdefXYZ"


@dataclass
class ExclusiveEnv:
    org: Org
    ding: Any
    http: aiohttp.ClientSession

    async def sim(self, method: str, path: str, json: Any = None) -> Any:
        async with self.http.request(method, self.ding.base_url + path, json=json) as resp:
            assert resp.status < 300, await resp.text()
            return await resp.json()

    async def sim_status(self, method: str, path: str) -> int:
        async with self.http.request(method, self.ding.base_url + path) as resp:
            return resp.status

    async def calls(self, path: str) -> int:
        return (await self.sim("GET", "/_sim/counters"))["calls"].get(path, 0)

    async def bucket(self, oss: str, key_id: str, key_secret: str, *, reachable: bool = True) -> None:
        body = {"oss": oss, "accessKeyId": key_id, "accessKeySecret": key_secret, "reachable": reachable}
        await self.sim("PUT", "/_sim/exclusive/buckets", body)


def actor_for(account: Any, role: Role, org: Org | None) -> Actor:
    return Actor(
        account_id=account.id,
        login=account.login,
        display_name=account.login,
        is_super=role is Role.SUPER_ADMIN,
        org_roles={org.id: role} if org is not None and role is not Role.SUPER_ADMIN else {},
        current_org_id=org.id if org is not None else None,
    )


async def org_admin(org: Org) -> Actor:
    account = await factories.account(f"admin{org.id}", Role.ORG_ADMIN, org)
    return actor_for(account, Role.ORG_ADMIN, org)


@pytest.fixture
async def env(orm: str) -> AsyncIterator[ExclusiveEnv]:
    org = await factories.org("专属科技", CORPID, is_main=True)
    ding = await start_simulator(corps=[f"{CORPID}:{org.appkey}:{org.appsecret}:{org.agent_id}"], qps=200)
    settings = Settings(dingtalk_oapi_base=ding.base_url, dingtalk_api_base=ding.base_url, dingtalk_qps=200)
    rt = await runtime.start(settings, run_workers=False)
    e = ExclusiveEnv(org=org, ding=ding, http=rt.http)
    await e.bucket(OSS, KEY_ID, KEY_SECRET)
    try:
        yield e
    finally:
        await runtime.stop()
        await ding.close()
