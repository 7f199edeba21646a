"""权限管理 > 管理员 > API 令牌: create (shown once), list, revoke with confirmation; each admin sees their own."""

from __future__ import annotations

from nicegui import ui
from nicegui.testing import User

from app.models.accounts import Role
from app.models.api_tokens import ApiToken
from app.models.audit import AuditLog
from app.services import api_tokens
from tests import factories
from tests.ui.helpers import login


def _table(user: User) -> ui.table:
    table = user.find(marker="token-table").elements.pop()
    assert isinstance(table, ui.table)
    return table


async def test_org_admin_creates_uses_and_revokes_a_token(user: User) -> None:
    await user.open("/login")
    org = await factories.org("叮当科技", "corpA", is_main=True)
    await factories.account("orgadmin", Role.ORG_ADMIN, org)
    await login(user, "orgadmin", factories.PASSWORD, expect="欢迎")
    await user.open("/permissions/admins")
    await user.should_see("API 令牌")
    await user.should_see("还没有 API 令牌")

    user.find(marker="new-token").click()
    await user.should_see(marker="token-name")
    user.find(marker="create-token").click()  # no name
    await user.should_see("请输入令牌名称")
    assert not await ApiToken.exists()
    user.find(marker="token-name").type("夜间同步脚本")
    user.find(marker="create-token").click()
    await user.should_see("关闭此窗口后将无法再次查看")
    shown = user.find(marker="token-value").elements.pop()
    assert isinstance(shown, ui.label)
    token = shown.text
    assert token.startswith("ldt_")
    stored = await ApiToken.get(name="夜间同步脚本")
    assert stored.token_hash != token and token not in stored.prefix  # only a hash and a short prefix are kept
    owner = await api_tokens.authenticate(token)
    assert owner.login == "orgadmin" and owner.org_roles == {org.id: Role.ORG_ADMIN}
    user.find(marker="token-saved").click()

    await user.should_see(marker="token-table")
    rows = _table(user).rows
    assert [(r["name"], r["state"]) for r in rows] == [("夜间同步脚本", "有效")]
    assert token not in str(rows)
    user.find(marker="token-table").trigger("revoke", rows[0])
    await user.should_see("确认撤销令牌「夜间同步脚本」")
    await user.should_see("撤销后使用该令牌的脚本将立即无法调用接口")
    user.find(marker="confirm-revoke").click()
    await user.should_see("已撤销令牌「夜间同步脚本」")
    assert _table(user).rows[0]["state"] == "已撤销（orgadmin）"
    try:
        await api_tokens.authenticate(token)
    except api_tokens.InvalidToken as exc:
        assert exc.message == "API 令牌已撤销"
    else:
        raise AssertionError("a revoked token still authenticates")
    assert await AuditLog.exists(action="api_token.create", object_name="夜间同步脚本", org_id=org.id)
    assert await AuditLog.exists(action="api_token.revoke", object_name="夜间同步脚本")


async def test_admins_see_only_their_own_tokens_and_the_super_admin_sees_all(user: User) -> None:
    await user.open("/login")
    org = await factories.org("叮当科技", "corpA", is_main=True)
    other = await factories.account("other", Role.ORG_ADMIN, org)
    from app.services.permissions import Actor

    other_actor = Actor(account_id=other.id, login="other", display_name="other", org_roles={org.id: Role.ORG_ADMIN})
    await api_tokens.create_token(other_actor, "别人的令牌")
    await factories.account("orgadmin", Role.ORG_ADMIN, org)
    await login(user, "orgadmin", factories.PASSWORD, expect="欢迎")
    await user.open("/permissions/admins")
    await user.should_see("还没有 API 令牌")
    await user.should_not_see("别人的令牌")

    await user.open("/logout")
    await factories.account("root", Role.SUPER_ADMIN)
    await login(user, "root", factories.PASSWORD, expect="欢迎")
    await user.open("/permissions/admins")
    await user.should_see("超级管理员可查看并撤销所有账号的令牌")
    await user.should_see(marker="token-table")
    row = _table(user).rows[0]
    assert (row["name"], row["owner"]) == ("别人的令牌", "other")
    user.find(marker="token-table").trigger("revoke", row)
    user.find(marker="confirm-revoke").click()
    await user.should_see("已撤销令牌「别人的令牌」")
    assert (await ApiToken.get(name="别人的令牌")).revoked_by == "root"
