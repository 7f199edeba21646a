"""A fresh install as the super admin meets it (guide 3.2.1)."""

from __future__ import annotations

from nicegui.testing import User

from app.models.accounts import Account
from app.models.system import MenuItem, RoleDef
from tests.ui.helpers import STRONG, change_initial_password, login


async def test_admin_first_login_forced_change_then_initialisation_twice(user: User) -> None:
    await user.open("/settings/init")  # any page, unauthenticated -> login, and back afterwards
    await user.should_see("蓝钉管理平台")
    user.find(marker="login").type("admin")
    user.find(marker="password").type("1")
    user.find("登录").click()
    await change_initial_password(user, "1")
    # The forced change leads back to the page first asked for.
    await user.should_see("执行初始化")
    assert not (await Account.get(login="admin")).must_change_password

    user.find(marker="run-init").click()
    await user.should_see("本次执行完成：9 项有变化")
    table = user.find(marker="init-items").elements.pop()
    assert len(table.rows) == 9
    assert all("新增" in row["result"] for row in table.rows)
    assert await RoleDef.all().count() == 4
    assert await MenuItem.filter(path="/settings/init").exists()

    user.find(marker="run-init").click()
    await user.should_see("本次执行完成：0 项有变化，9 项无变化")
    assert all("无变化" in row["result"] for row in table.rows)


async def test_home_asks_to_initialise_until_done(user: User) -> None:
    await login(user, "admin", "1")
    await change_initial_password(user, "1")
    await user.open("/")
    await user.should_see("系统尚未初始化")
    await user.open("/settings/init")
    user.find(marker="run-init").click()
    await user.should_see("本次执行完成")
    await user.open("/")
    await user.should_not_see("系统尚未初始化")
    await user.should_see("还没有公司信息")


async def test_password_rules_are_explained_and_change_nothing(user: User) -> None:
    await login(user, "admin", "1")
    await user.should_see("请先修改初始密码")
    user.find(marker="old").type("1")
    user.find(marker="new").type("short1")
    user.find(marker="confirm").type("short1")
    user.find("保存").click()
    await user.should_see("新密码至少 8 位")
    user.find(marker="new").clear().type("abcdefghij")
    user.find(marker="confirm").clear().type("abcdefghij")
    user.find("保存").click()
    await user.should_see("新密码需同时包含字母和数字")
    assert (await Account.get(login="admin")).must_change_password
    # Until the password is changed, every page leads back to the change form.
    await user.open("/permissions/audit")
    await user.should_see("请先修改初始密码")
    # Logging out and in again with the new password works after a successful change.
    user.find(marker="old").type("1")
    user.find(marker="new").clear().type(STRONG)
    user.find(marker="confirm").clear().type(STRONG)
    user.find("保存").click()
    await user.should_see("审计日志")
