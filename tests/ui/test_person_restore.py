"""恢复有效 on the person page, and the 部门主管 rule shown next to its field on the department form."""

from __future__ import annotations

from nicegui import ui
from nicegui.testing import User

from app.models.accounts import Role
from app.models.contacts import Department, Person
from tests import contacts_factory as cf
from tests import factories
from tests.ui.helpers import login


async def _start(user: User):
    await user.open("/login")
    tree = await cf.build()
    await factories.account("admin1", Role.ORG_ADMIN, tree.org)
    await login(user, "admin1", factories.PASSWORD)
    await user.should_see("欢迎")
    return tree


def _state(user: User) -> str:
    badge = user.find(marker="view-person-state").elements.pop()
    assert isinstance(badge, ui.badge)
    return badge.text


async def test_restore_an_invalid_person(user: User) -> None:
    tree = await _start(user)
    wang = tree.people["王五"]
    wang.is_active = False
    await wang.save()
    await user.open(f"/contacts/person/{wang.id}")
    await user.should_see(marker="person-restore")
    assert _state(user) == "无效"
    await user.should_not_see(marker="person-delete")
    user.find(marker="person-restore").click()
    await user.should_see("将把「王五」恢复为有效人员")
    user.find(marker="confirm-ok").click()
    await user.should_see("已将「王五」恢复有效")
    await user.should_see(marker="person-delete")
    await user.should_not_see(marker="person-restore")
    assert _state(user) == "有效"
    assert (await Person.get(id=wang.id)).is_active


async def test_restore_refused_when_the_main_department_is_gone(user: User) -> None:
    tree = await _start(user)
    temp = await cf.dept(tree.org, tree.root, "临时组")
    zhao = await cf.person(tree.org, temp, "赵六", is_active=False)
    await Department.filter(id=temp.id).update(is_deleted=True)
    await user.open(f"/contacts/person/{zhao.id}")
    user.find(marker="person-restore").click()
    await user.should_see("将把「赵六」恢复为有效人员")
    user.find(marker="confirm-ok").click()
    await user.should_see("主部门「临时组」已删除，请先编辑人员修改主部门后再恢复有效")
    assert _state(user) == "无效"
    assert not (await Person.get(id=zhao.id)).is_active


async def test_manager_outside_the_department_is_refused_next_to_the_field(user: User) -> None:
    tree = await _start(user)
    rd = tree.depts["研发部"]
    wang = tree.people["王五"]
    await user.open(f"/contacts/dept/{rd.id}/edit")
    await user.should_see("须为本部门的人员")
    user.find(marker="pick-manager_ids").click()
    await user.should_see(marker="ab-search")
    user.find(marker="ab-search").type("王五").trigger("keydown.enter")
    await user.should_see(marker=f"ab-hit-person-{wang.id}")
    user.find(marker=f"ab-hit-person-{wang.id}").click()
    user.find(marker="ab-ok").click()
    await user.should_see("王五", kind=ui.chip)
    user.find(marker="dept-submit").click()
    await user.should_see("部门主管「王五」不是本部门的人员")
    label = user.find(marker="error-manager_ids").elements.pop()
    assert "王五" in label.text and label.visible
    assert (await Department.get(id=rd.id)).manager_ids == []
    # the create form does not offer managers at all
    await user.open(f"/contacts/dept/new?parent={rd.id}")
    await user.should_see(marker="dept-managers-later")
    await user.should_not_see(marker="pick-manager_ids")
