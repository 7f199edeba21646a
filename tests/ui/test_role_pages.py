"""Which pages each role reaches, and the 无权限 page for the rest (guide 3.4)."""

from __future__ import annotations

import pytest
from nicegui.testing import User

from app.models.accounts import Role
from tests import factories
from tests.ui.helpers import login

PAGES = {
    "/settings/init": "执行初始化",
    "/permissions/roles": "权限大小",
    "/permissions/admins": "各组织的管理员账号",
    "/permissions/audit": "操作类型",
}
ALLOWED = {
    Role.SUPER_ADMIN: set(PAGES),
    Role.ORG_ADMIN: {"/permissions/roles", "/permissions/admins", "/permissions/audit"},
    Role.SUB_ADMIN: {"/permissions/roles", "/permissions/admins"},
    Role.DEPT_ADMIN: set(),
}


@pytest.mark.parametrize("role", list(Role))
async def test_pages_by_role(user: User, role: Role) -> None:
    await user.open("/login")  # starts the app (and its database) before we add data
    org = await factories.org("叮当科技", "corpA", is_main=True)
    await factories.account("someone", role, None if role == Role.SUPER_ADMIN else org)
    await login(user, "someone", factories.PASSWORD)
    await user.should_see("欢迎")
    for path, marker in PAGES.items():
        await user.open(path)
        if path in ALLOWED[role]:
            await user.should_see(marker)
            await user.should_not_see("无权限")
        else:
            await user.should_see("无权限")
            await user.should_not_see(marker)


async def test_menus_show_only_what_the_role_may_use(user: User) -> None:
    await user.open("/login")
    org = await factories.org("叮当科技", "corpA", is_main=True)
    await factories.account("sub", Role.SUB_ADMIN, org)
    await login(user, "sub", factories.PASSWORD)
    await user.open("/permissions/roles")
    await user.should_see("管理员")
    await user.should_not_see("审计日志")
    await user.should_not_see("系统初始化")
    await user.should_see("叮当科技")  # the current org in the top bar


async def test_unauthenticated_request_goes_to_login_and_comes_back(user: User) -> None:
    await user.open("/permissions/roles")
    await user.should_see("登录")
    await user.should_not_see("权限大小")
