"""Test data built through the same models the services use."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiohttp

from app.core.security import hash_password
from app.dingtalk.client import DingTalkClient
from app.models.accounts import Account, Role, RoleGrant
from app.models.contacts import Department
from app.models.orgs import Company, Org

PASSWORD = "Landing2026x"
CLOSED_PORT = "http://127.0.0.1:9"  # nothing listens there: a call fails at once, and never leaves the machine


@asynccontextmanager
async def unreachable_dingtalk() -> AsyncIterator[DingTalkClient]:
    """The DingTalk client a use-case takes, for a test where it has nothing to ask DingTalk (an org without a
    callback registration being dissolved, ...); no runtime is started."""
    async with aiohttp.ClientSession() as http:
        yield DingTalkClient(http, oapi_base=CLOSED_PORT, api_base=CLOSED_PORT)


async def company() -> Company:
    return await Company.get_or_none(id=1) or await Company.create(name="蓝钉测试企业", domain="test.adingding.com")


async def org(name: str = "叮当科技", corpid: str = "dingcorp1", *, is_main: bool = False) -> Org:
    c = await company()
    o = await Org.create(
        company=c,
        name=name,
        is_main=is_main,
        corpid=corpid,
        appkey=f"key-{corpid}",
        appsecret=f"secret-{corpid}-0123456789abcdef",
        agent_id=f"9{len(corpid)}{corpid[-1:]}",
        aes_key="a" * 43,
        callback_token="tok123",
    )
    root = await Department.create(org=o, name=name, path="/", ding_id=1)
    root.path = f"/{root.id}/"
    await root.save(update_fields=["path"])
    return o


async def account(
    login: str, role: Role, org_: Org | None = None, dept_ids: list[int] | None = None, *, must_change: bool = False
) -> Account:
    acc = await Account.get_or_none(login=login)
    if acc is None:
        acc = await Account.create(
            login=login, display_name=login, password_hash=hash_password(PASSWORD), must_change_password=must_change
        )
    await RoleGrant.create(account=acc, role=role, org=org_, dept_ids=dept_ids or [])
    return acc
