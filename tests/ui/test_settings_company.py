"""设置 > 公司信息 / 组织 / 子管理员 through the simulated browser, against the DingTalk simulator over loopback.

The simulator performs the real check_url handshake while an org is saved, so our callback endpoint is served on a
real loopback port (uvicorn, same process and database) and the callback domain points there.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
import uvicorn
from fastapi import FastAPI
from nicegui.testing import User

from app import runtime
from app.api import dingtalk_callback
from app.core.security import verify_password
from app.dingtalk.simulator import start_simulator
from app.models.accounts import Account, Role, RoleGrant
from app.models.contacts import Person
from app.models.orgs import CallbackStatus, Org
from app.services import accounts, orgs, security_settings
from tests import factories
from tests.ui.helpers import STRONG, change_initial_password, login

CORP_A = "dingcorpa0001:dingkeya0001:secretA-0123456789abcdef:1001"
CORP_B = "dingcorpb0002:dingkeyb0002:secretB-0123456789abcdef:1002"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Ding:
    sim: object
    callback_base: str


@pytest.fixture
async def ding(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Ding]:
    sim = await start_simulator(corps=[CORP_A, CORP_B], demo=True, qps=200)
    monkeypatch.setenv("LANDING_DINGTALK_OAPI_BASE", sim.base_url)
    monkeypatch.setenv("LANDING_DINGTALK_API_BASE", sim.base_url)
    monkeypatch.setenv("LANDING_DINGTALK_QPS", "200")
    api = FastAPI()
    api.include_router(dingtalk_callback.router)
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(api, host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
    task = asyncio.create_task(server.serve())
    for _ in range(500):
        if server.started:
            break
        await asyncio.sleep(0.02)
    try:
        yield Ding(sim, f"http://127.0.0.1:{port}")
    finally:
        if (rt := runtime.current()) is not None:  # the app may have stopped first (its stop cancels the pulls)
            await orgs.wait_for_baselines(rt)
        server.should_exit = True
        await task
        await sim.close()


@pytest.fixture
async def console(ding: Ding, user: User) -> User:
    """The simulated browser, started after the DingTalk settings point at the simulator."""
    await user.open("/login")
    return user


async def _as_super(user: User) -> None:
    await factories.account("root", Role.SUPER_ADMIN)
    await login(user, "root", factories.PASSWORD, expect="欢迎")


def _fill(user: User, values: dict[str, str]) -> None:
    for marker, value in values.items():
        user.find(marker=marker).clear().type(value)


def _error_of(user: User, marker: str) -> str:
    (element,) = user.find(marker=marker).elements
    return str(element.props.get("error-message", ""))


async def _create_company(user: User, ding: Ding) -> None:
    await user.open("/settings/company")
    user.find(marker="create-company").click()
    await user.should_see("填写公司信息")
    _fill(
        user,
        {
            "company_name": "蓝钉测试企业",
            "domain": "landray.com",
            "corpid": "dingcorpa0001",
            "appkey": "dingkeya0001",
            "appsecret": "secretA-0123456789abcdef",
            "agent_id": "1001",
            "callback_domain": ding.callback_base,
        },
    )
    user.find(marker="save").click()
    await user.should_see(marker="callback-ok")


async def test_company_creation_registers_callback_and_pulls_admin_and_tree(console: User, ding: Ding) -> None:
    user = console
    await _as_super(user)
    await user.open("/settings/company/edit")
    await user.should_see("公司标识是申请注册钉钉企业时填写的公司域标识")  # the guide's help text
    await user.should_see("/api/ding_console/contacts/callback?corpid=")
    await _create_company(user, ding)
    await user.should_see(marker="admin-pulled")
    sim_admin = next(u for u in ding.sim.corp("dingcorpa0001").users.values() if u.sys_level == 1)
    await user.should_see(sim_admin.mobile)
    registration = ding.sim.corp("dingcorpa0001").apps["dingkeya0001"].callback
    assert registration is not None and registration.url.startswith(ding.callback_base)
    await orgs.wait_for_baselines(runtime.get())
    await user.open("/settings/company")
    await user.should_see("蓝钉测试企业")
    (row,) = user.find(marker="org-table").elements.pop().rows
    assert (row["name"], row["admin"], row["main"], row["callback"]) == ("蓝钉测试企业", sim_admin.name, "是", "成功")
    org = await Org.get(corpid="dingcorpa0001")
    await user.open(f"/settings/company/org/{org.id}")
    await user.should_see("已完成")
    await user.should_see("从钉钉同步部门获取")
    assert await Person.filter(org_id=org.id).count() == len(ding.sim.corp("dingcorpa0001").users)


async def test_validation_and_bad_credentials_save_nothing(console: User, ding: Ding) -> None:
    user = console
    await _as_super(user)
    await user.open("/settings/company/edit")
    _fill(user, {"domain": "not a domain", "corpid": "bad id!", "agent_id": "abc"})
    user.find(marker="save").click()
    await user.should_see("请检查标红的字段")
    assert "请输入公司名称" in _error_of(user, "company_name")
    assert "域名格式" in _error_of(user, "domain")
    assert "字母和数字" in _error_of(user, "corpid")
    assert "AgentId 应为数字" in _error_of(user, "agent_id")
    _fill(
        user,
        {
            "company_name": "蓝钉测试企业",
            "domain": "landray.com",
            "corpid": "dingcorpa0001",
            "appkey": "dingkeya0001",
            "appsecret": "wrong-secret-000",
            "agent_id": "1001",
        },
    )
    user.find(marker="save").click()
    await user.should_see(marker="dingtalk-error")
    await user.should_see("钉钉返回错误")
    assert not await Org.exists()


async def test_new_org_refuses_duplicates_and_dissolve_rules(console: User, ding: Ding) -> None:
    user = console
    await _as_super(user)
    await _create_company(user, ding)
    await orgs.wait_for_baselines(runtime.get())
    await user.open("/settings/company/org/new")
    _fill(
        user,
        {
            "name": "叮当科技",
            "corpid": "dingcorpa0001",
            "appkey": "dingkeyb0002",
            "appsecret": "secretA-0123456789abcdef",
            "agent_id": "1001",
            "callback_domain": ding.callback_base,
        },
    )
    user.find(marker="save").click()
    await user.should_see("请检查标红的字段")
    assert "已被组织「蓝钉测试企业」使用" in _error_of(user, "corpid")
    assert "appsecret" in _error_of(user, "appsecret")
    assert "AgentId" in _error_of(user, "agent_id")
    assert await Org.all().count() == 1
    _fill(user, {"corpid": "dingcorpb0002", "appsecret": "secretB-0123456789abcdef", "agent_id": "1002"})
    user.find(marker="save").click()
    await user.should_see(marker="callback-ok")
    await orgs.wait_for_baselines(runtime.get())
    main, other = await Org.all().order_by("id")

    # Dissolving the main org is refused, with the confirmation naming what was selected.
    await user.open("/settings/company")
    table = user.find(marker="org-table").elements.pop()
    table.selected = [r for r in table.rows if r["id"] == main.id]
    user.find(marker="dissolve").click()
    await user.should_see("将解散：蓝钉测试企业")
    user.find(marker="confirm-dissolve").click()
    await user.should_see("主组织不可解散")
    assert await Org.all().count() == 2

    await user.open("/settings/company")
    table = user.find(marker="org-table").elements.pop()
    table.selected = [r for r in table.rows if r["id"] == other.id]
    user.find(marker="dissolve").click()
    await user.should_see("将解散：叮当科技")
    user.find(marker="confirm-dissolve").click()
    await user.should_see("已解散：叮当科技")
    assert not await Org.exists(id=other.id)
    assert not await Person.filter(org_id=other.id).exists()
    assert await Person.filter(org_id=main.id).exists()
    # The DingTalk org stays; our callback registration there is deleted so its events stop.
    assert ding.sim.corp("dingcorpb0002").users
    assert ding.sim.corp("dingcorpb0002").apps["dingkeyb0002"].callback is None


async def test_unreachable_callback_shows_failed_and_retry(console: User, ding: Ding) -> None:
    user = console
    await _as_super(user)
    await user.open("/settings/company/edit")
    _fill(
        user,
        {
            "company_name": "蓝钉测试企业",
            "domain": "landray.com",
            "corpid": "dingcorpa0001",
            "appkey": "dingkeya0001",
            "appsecret": "secretA-0123456789abcdef",
            "callback_domain": "http://127.0.0.1:9",
        },
    )
    user.find(marker="save").click()
    await user.should_see(marker="callback-failed")
    await user.should_see("71012")
    await orgs.wait_for_baselines(runtime.get())
    org = await Org.get(corpid="dingcorpa0001")
    assert org.callback_status == CallbackStatus.FAILED
    await user.open(f"/settings/company/org/{org.id}")
    await user.should_see(marker="callback-error")
    user.find(marker="edit-org").click()
    _fill(user, {"callback_domain": ding.callback_base})
    user.find(marker="save").click()
    await user.should_see(marker="callback-ok")
    assert (await Org.get(id=org.id)).callback_status == CallbackStatus.SUCCESS


async def test_org_admin_appoints_sub_admin_with_its_limits(console: User, ding: Ding) -> None:
    user = console
    org = await factories.org("叮当科技", "corpA", is_main=True)
    root = await org.departments.all().first()
    alice = await Person.create(org=org, name="艾丽丝", main_dept=root, mobile="13800000001", ding_userid="alice")
    await factories.account("orgadmin", Role.ORG_ADMIN, org)
    await login(user, "orgadmin", factories.PASSWORD, expect="欢迎")
    await user.open("/settings/sub-admins")
    await user.should_see("还没有子管理员")
    user.find("添加子管理员").click()
    await user.should_see(marker="ab-search")
    user.find(marker="ab-search").type("艾丽").trigger("keydown.enter")
    await user.should_see(marker=f"ab-hit-person-{alice.id}")
    user.find(marker=f"ab-hit-person-{alice.id}").click()
    user.find(marker="ab-ok").click()
    await user.should_see("初始密码 123456")
    await user.should_see("13800000001")
    account = await Account.get(login="13800000001")
    assert account.must_change_password
    assert await RoleGrant.exists(account=account, role=Role.SUB_ADMIN, org=org)

    # The sub-admin logs in with 123456, must change it, and cannot edit the org or appoint sub-admins.
    await user.open("/logout")
    await login(user, "13800000001", "123456")
    await change_initial_password(user, "123456")
    await user.open("/settings/org")
    await user.should_see("组织信息")
    await user.should_not_see("编辑")
    await user.open("/settings/sub-admins")
    await user.should_see("无权限")
    assert STRONG


async def test_org_admin_edits_own_org_and_main_admin(console: User, ding: Ding) -> None:
    user = console
    org = await factories.org("叮当科技", "corpA", is_main=True)
    root = await org.departments.all().first()
    bob = await Person.create(org=org, name="鲍勃", main_dept=root, mobile="13800000002", ding_userid="bob")
    await factories.account("orgadmin", Role.ORG_ADMIN, org)
    await login(user, "orgadmin", factories.PASSWORD, expect="欢迎")
    await user.open("/settings/org")
    await user.should_see(marker="edit-org")
    await user.should_see(marker="main-admin-box")
    user.find(marker="choose-main-admin").click()
    await user.should_see(marker=f"ab-node-{root.id}")
    user.find(marker=f"ab-node-{root.id}").click()
    await user.should_see(marker=f"ab-person-{bob.id}")
    user.find(marker=f"ab-person-{bob.id}").click()
    user.find(marker="ab-ok").click()
    await user.should_see("确认将「鲍勃」设为主管理员？")
    user.find(marker="confirm-ok").click()
    await user.should_see("已修改主管理员")
    assert (await Org.get(id=org.id)).main_admin_id == bob.id
    assert await RoleGrant.exists(account__login="13800000002", role=Role.ORG_ADMIN, org=org)


async def test_crossed_corpid_is_a_field_error_and_nothing_is_saved(console: User, ding: Ding) -> None:
    user = console
    await _as_super(user)
    await _create_company(user, ding)
    await orgs.wait_for_baselines(runtime.get())
    people = await Person.all().count()
    await user.open("/settings/company/org/new")
    _fill(
        user,
        {
            "name": "叮当科技",
            "corpid": "dingcorpother9",  # not the corp of appkey dingkeyb0002
            "appkey": "dingkeyb0002",
            "appsecret": "secretB-0123456789abcdef",
            "agent_id": "1002",
            "callback_domain": ding.callback_base,
        },
    )
    user.find(marker="save").click()
    await user.should_see("请检查标红的字段")
    assert _error_of(user, "corpid") == "corpid 与 appkey 不属于同一企业"
    assert await Org.all().count() == 1
    assert await Person.all().count() == people
    assert ding.sim.corp("dingcorpb0002").apps["dingkeyb0002"].callback is None


def _shown_password(user: User, marker: str) -> str:
    (element,) = user.find(marker=marker).elements
    return str(element.text).split("：")[-1].strip()


async def test_random_initial_passwords_reach_pulled_and_appointed_main_admins(console: User, ding: Ding) -> None:
    """系统设置 > 初始密码 = 随机: the main admin pulled from DingTalk and one appointed later each get a password
    that the creating admin sees exactly once, and that logs them in (to change it first)."""
    user = console
    await _as_super(user)
    root_account = await Account.get(login="root")
    await security_settings.save(
        await accounts.load_actor(root_account.id), allowed_ranges="", trusted_proxies="", initial_password="random"
    )
    await _create_company(user, ding)
    await user.should_see(marker="admin-initial-password")
    pulled = _shown_password(user, "admin-initial-password")
    assert pulled and pulled != "123456"
    sim_admin = next(u for u in ding.sim.corp("dingcorpa0001").users.values() if u.sys_level == 1)

    org = await Org.get(corpid="dingcorpa0001")
    await orgs.wait_for_baselines(runtime.get())
    bob = await Person.filter(org_id=org.id, is_active=True).exclude(mobile=sim_admin.mobile).exclude(mobile=None)
    bob = next(p for p in bob if p.login_name or p.mobile)
    await user.open(f"/settings/company/org/{org.id}")
    await user.should_see(marker="main-admin-box")
    user.find(marker="choose-main-admin").click()
    await user.should_see(marker="ab-search")
    user.find(marker="ab-search").type(bob.name).trigger("keydown.enter")
    await user.should_see(marker=f"ab-hit-person-{bob.id}")
    user.find(marker=f"ab-hit-person-{bob.id}").click()
    user.find(marker="ab-ok").click()
    await user.should_see(f"确认将「{bob.name}」设为主管理员？")
    user.find(marker="confirm-ok").click()
    login_name = orgs.login_for(bob)
    await user.should_see(marker=f"initial-password-{login_name}")
    appointed = _shown_password(user, f"initial-password-{login_name}")
    assert appointed and appointed not in ("123456", pulled)
    user.find(marker="initial-passwords-ok").click()
    await user.should_see("已修改主管理员")

    # The pulled admin is no longer main admin (no role left to log in with), but the password was theirs.
    pulled_account = await Account.get(login=sim_admin.mobile)
    assert pulled_account.must_change_password and verify_password(pulled, pulled_account.password_hash)
    await user.open("/logout")
    await login(user, login_name, appointed)
    await change_initial_password(user, appointed)
