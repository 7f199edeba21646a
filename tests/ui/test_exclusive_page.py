"""设置 > 专属钉钉 for the roles (guide 2 and 3.4): the org admin works on it, a sub admin is refused."""

from __future__ import annotations

import asyncio

from nicegui.testing import User

from app.models.accounts import Role
from tests import factories
from tests.ui.helpers import login


async def _logged_in(user: User, role: Role) -> None:
    await user.open("/login")  # starts the app (and its database) before we add data
    org = await factories.org("叮当科技", "corpA", is_main=True)
    await factories.account("someone", role, org)
    await login(user, "someone", factories.PASSWORD, expect="欢迎")


async def test_org_admin_walks_the_steps_and_empty_fields_are_refused(user: User) -> None:
    await _logged_in(user, Role.ORG_ADMIN)
    await user.open("/settings/org")
    await user.should_see("专属钉钉")  # the menu entry
    await user.open("/settings/exclusive")
    await user.should_see("专属钉钉配置")
    user.find(marker="to-settings").click()
    await user.should_see(marker="check-connection")
    user.find(marker="check-connection").click()
    await user.should_see(marker="oss-url")
    oss = user.find(marker="oss-url").elements.pop()
    secret = user.find(marker="access-key-secret").elements.pop()
    for _ in range(200):  # the click's handler runs on the event loop: wait for its result, up to 10 s
        if oss.props.get("error-message"):
            break
        await asyncio.sleep(0.05)
    assert "bucket域名" in oss.props["error-message"]
    assert "AccessKey Secret" in secret.props["error-message"]
    user.find(marker="back-to-purchase").click()
    await user.should_see(marker="to-settings")


async def test_look_tab_lists_the_rules_and_the_history_is_empty(user: User) -> None:
    await _logged_in(user, Role.ORG_ADMIN)
    await user.open("/settings/exclusive?tab=look")
    await user.should_see("要求尺寸 1242*2688px，大小不超过 3M，PNG 或 JPG")
    await user.should_see("要求尺寸 2048*1536px，大小不超过 3M，PNG 或 JPG")
    await user.should_see("要求尺寸 400*150px，大小不超过 3M，PNG 或 JPG")
    await user.should_see(marker="history-empty")


async def test_sub_admin_is_refused(user: User) -> None:
    await _logged_in(user, Role.SUB_ADMIN)
    await user.open("/settings/exclusive")
    await user.should_see("无权限")
    await user.should_not_see("专属钉钉配置")
