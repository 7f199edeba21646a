"""Rights on every action and sessions that end (issue 13, item 1).

Each test opens a page first and changes the account's rights or session afterwards, the way an attacker keeps an
old tab open: the next action of that page must be refused and change nothing.
"""

from __future__ import annotations

from nicegui.testing import User

from app.core.security import hash_password
from app.models.access import AccessSystem
from app.models.accounts import Account, Role, RoleGrant
from app.models.system import SystemParam
from app.services import accounts, system_init
from app.services.permissions import Actor
from tests import factories
from tests.ui.helpers import login


async def _fill_access_form(user: User) -> None:
    await user.open("/settings/access/edit")
    user.find(marker="name").type("HR系统接入专用")
    user.find(marker="identifier").type("ekptest0001")
    user.find(marker="auth_account").type("testuser")
    user.find(marker="auth_password").type("test12345678")


async def test_open_tab_of_a_sub_admin_whose_role_was_removed_cannot_create_an_access_system(user: User) -> None:
    await user.open("/login")
    org = await factories.org("叮当科技", "corpA", is_main=True)
    sub = await factories.account("sub", Role.SUB_ADMIN, org)
    await login(user, "sub", factories.PASSWORD)
    await user.should_see("欢迎")
    await _fill_access_form(user)

    # Another replica removes the role (a plain database write: no listener in this process hears of it).
    await RoleGrant.filter(account_id=sub.id).delete()
    user.find(marker="submit").click()
    await user.should_see("无权限")
    assert await AccessSystem.all().count() == 0


async def test_role_removal_by_the_org_admin_ends_the_sub_admins_session(user: User) -> None:
    await user.open("/login")
    org = await factories.org("叮当科技", "corpA", is_main=True)
    sub = await factories.account("sub", Role.SUB_ADMIN, org)
    boss = await factories.account("boss", Role.ORG_ADMIN, org)
    await login(user, "sub", factories.PASSWORD)
    await user.should_see("欢迎")
    await _fill_access_form(user)

    boss_actor = Actor(account_id=boss.id, login="boss", display_name="boss", org_roles={org.id: Role.ORG_ADMIN})
    await accounts.revoke_role(boss_actor, account_id=sub.id, role=Role.SUB_ADMIN, org=org)
    user.find(marker="submit").click()
    await user.should_see("登录已失效")  # (a real browser is sent to the login page at once: tests/e2e)
    assert await AccessSystem.all().count() == 0
    assert (await Account.get(id=sub.id)).session_epoch == 1


async def _super_admin_with_params(user: User) -> None:
    await user.open("/login")
    account = await Account.get(login="admin")
    account.must_change_password = False
    account.password_hash = hash_password(factories.PASSWORD)
    await account.save()
    actor = await accounts.load_actor(account.id)
    await system_init.run(actor, "http://console.test")


async def test_tab_opened_before_logout_cannot_save_a_system_setting(user: User) -> None:
    # Two browsers of one account are in tests/e2e/test_browser_security.py; here the session ends underneath an
    # open page (as 退出 in another browser does) and the page's next click must change nothing.
    await _super_admin_with_params(user)
    await login(user, "admin", factories.PASSWORD)
    await user.should_see("欢迎")
    await user.open("/settings/system")
    await user.should_see("系统设置")
    account = await Account.get(login="admin")
    await accounts.end_sessions([account.id])

    user.find(marker="server_dns").clear().type("https://evil.example.com")
    user.find(marker="save-params").click()
    await user.should_see("登录已失效")
    value = (await SystemParam.get(key="server_dns")).value["value"]
    assert value != "https://evil.example.com"
    await user.open("/settings/system")
    await user.should_see(marker="login")  # the cookie no longer opens pages


async def test_get_logout_from_another_site_logs_nobody_out(user: User) -> None:
    await _super_admin_with_params(user)
    await login(user, "admin", factories.PASSWORD)
    await user.should_see("欢迎")
    # What a link or <img src> on another site makes the browser do: a plain GET with our cookie.
    response = await user.http_client.get("/logout", headers={"Referer": "https://evil.example.com/"})
    assert response.status_code == 200
    await user.open("/settings/system")
    await user.should_see("系统设置")
    assert (await Account.get(login="admin")).session_epoch == 0
