"""A value DingTalk refused, as the org admin sees it on the person page, and 保留钉钉的号码."""

from __future__ import annotations

from nicegui.testing import User

from app.models.accounts import Role
from app.models.audit import AuditLog
from app.models.contacts import Person
from tests import contacts_factory as cf
from tests import factories
from tests.ui.helpers import eventually, login


async def _as_org_admin(user: User) -> cf.Tree:
    await user.open("/login")
    tree = await cf.build()
    await factories.account("admin1", Role.ORG_ADMIN, tree.org)
    await login(user, "admin1", factories.PASSWORD)
    await user.should_see("欢迎")
    return tree


async def test_refused_mobile_is_shown_and_kept_from_dingtalk(user: User) -> None:
    tree = await _as_org_admin(user)
    wang = tree.people["王五"]
    old = wang.mobile
    wang.ding_userid = "u-wang"
    wang.mobile = "13900139000"
    wang.sync_conflicts = {"mobile": {"local": "13900139000", "ding": old, "code": 40022}}
    await wang.save()
    await user.open(f"/contacts/person/{wang.id}")
    await user.should_see("钉钉拒绝了以下修改")
    await user.should_see(f"手机号：本系统为「13900139000」，钉钉仍为「{old}」（40022）")
    await user.should_see(marker="recreate")
    user.find(marker="keep-dingtalk-mobile").click()
    await user.should_see(f"将改回钉钉的「{old}」")
    user.find(marker="confirm-ok").click()

    async def resolved() -> bool:
        row = await Person.get(id=wang.id)
        return row.mobile == old and row.sync_conflicts == {}

    await eventually(resolved)
    await user.should_see("已保留钉钉的值")
    assert await AuditLog.filter(action="contacts.person.keep_dingtalk").count() == 1


async def test_changing_a_joined_users_mobile_asks_first(user: User) -> None:
    tree = await _as_org_admin(user)
    wang = tree.people["王五"]
    await Person.filter(id=wang.id).update(ding_userid="u-wang")
    await user.open(f"/contacts/person/{wang.id}/edit")
    user.find(marker="person-mobile").clear().type("13900139001")
    user.find(marker="person-submit").click()
    await user.should_see("钉钉不允许通过接口修改已加入企业的人员的手机号")
    assert (await Person.get(id=wang.id)).mobile != "13900139001"
    user.find(marker="confirm-ok").click()

    async def saved() -> bool:
        return (await Person.get(id=wang.id)).mobile == "13900139001"

    await eventually(saved)
