"""The 通讯录 pages through NiceGUI's simulated user: tree, search, department and person forms, deleting."""

from __future__ import annotations

from nicegui import ui
from nicegui.testing import User

from app.models.accounts import Role
from app.models.contacts import Department, Person
from tests import contacts_factory as cf
from tests import factories
from tests.ui.helpers import eventually, login


async def _start(user: User, role: Role = Role.ORG_ADMIN, scope: str | None = None):
    await user.open("/login")
    tree = await cf.build()
    dept_ids = [tree.depts[scope].id] if scope else None
    await factories.account("admin1", role, tree.org, dept_ids)
    await login(user, "admin1", factories.PASSWORD)
    await user.should_see("欢迎")
    return tree


def _table_rows(user: User, marker: str) -> list[dict]:
    table = user.find(marker=marker).elements.pop()
    assert isinstance(table, ui.table)
    return table.rows


async def test_tree_with_counts_and_lazy_children(user: User) -> None:
    tree = await _start(user)
    await user.open("/contacts")
    await user.should_see("叮当科技(4)")
    await user.should_see("研发部(2)")
    await user.should_not_see("前端组(1)")  # not loaded before its parent is expanded
    user.find(marker=f"tree-toggle-{tree.depts['研发部'].id}").click()
    await user.should_see("前端组(1)")
    assert [r["name"] for r in _table_rows(user, "dept-table")] == ["研发部", "市场部"]
    assert [r["name"] for r in _table_rows(user, "person-table")] == ["陈园园"]


async def test_search_highlights_people_and_departments(user: User) -> None:
    tree = await _start(user)
    await user.open("/contacts")
    user.find(marker="contacts-search").type("张").trigger("keydown.enter")
    await user.should_see(marker=f"hit-person-{tree.people['张三'].id}")
    user.find(marker="contacts-search").clear()
    user.find(marker="contacts-search").type("zhangsan").trigger("keydown.enter")
    await user.should_see(marker=f"hit-person-{tree.people['张三'].id}")
    user.find(marker="contacts-search").clear()
    user.find(marker="contacts-search").type("市场").trigger("keydown.enter")
    await user.should_see(marker=f"hit-dept-{tree.depts['市场部'].id}")


async def test_create_department_with_validation_next_to_field(user: User) -> None:
    tree = await _start(user)
    rd = tree.depts["研发部"]
    await user.open(f"/contacts/dept/new?parent={rd.id}")
    await user.should_see("新增部门")
    user.find(marker="dept-name").type("测试-部")
    user.find(marker="dept-submit").click()
    await user.should_see("不能包含")
    assert not await Department.filter(name="测试-部").exists()
    user.find(marker="dept-name").clear()
    user.find(marker="dept-name").type("测试部")
    user.find(marker="dept-submit").click()
    await user.should_see("部门已保存")
    dept = await Department.get(name="测试部")
    assert dept.parent_id == rd.id
    await user.should_see(marker="view-name")


async def test_edit_department_visibility_and_admin_with_the_picker(user: User) -> None:
    tree = await _start(user)
    market = tree.depts["市场部"]
    await user.open(f"/contacts/dept/{market.id}/edit")
    await user.should_see("编辑部门")
    # 部门管理员 via the address book: expand the tree, open 研发部, choose 张三
    user.find(marker="pick-admin_ids").click()
    await user.should_see(marker="ab-ok")
    user.find(marker=f"ab-node-{tree.depts['研发部'].id}").click()
    await user.should_see(marker=f"ab-person-{tree.people['张三'].id}")
    user.find(marker=f"ab-person-{tree.people['张三'].id}").click()
    user.find(marker="ab-ok").click()
    await user.should_see("张三")
    # 是否隐藏本部门 -> 指定部分部门/人员可见 without anyone: refused next to the field
    user.find(marker="dept-hide").click()
    user.find(marker="dept-hide-mode").click()
    user.find("指定部分部门/人员可见").click()
    user.find(marker="dept-submit").click()
    await user.should_see("请选择隐藏后可见的人员或部门")
    assert (await Department.get(id=market.id)).hide_mode == "off"
    user.find(marker="pick-hide_dept_ids").click()
    await user.should_see(marker="ab-search")
    user.find(marker="ab-search").type("研发").trigger("keydown.enter")
    await user.should_see(marker=f"ab-hit-dept-{tree.depts['研发部'].id}")
    user.find(marker=f"ab-hit-dept-{tree.depts['研发部'].id}").click()
    user.find(marker="ab-ok").click()
    await user.should_see(marker="field-hide_dept_ids")
    user.find(marker="dept-submit").click()
    await user.should_see("部门已保存")
    saved = await Department.get(id=market.id)
    assert saved.hide_mode == "some" and saved.hide_visible_dept_ids == [tree.depts["研发部"].id]
    assert saved.admin_ids == [tree.people["张三"].id]
    await user.should_see("指定部分部门/人员可见")


async def test_create_and_edit_person(user: User) -> None:
    tree = await _start(user)
    rd = tree.depts["研发部"]
    await user.open(f"/contacts/person/new?dept={rd.id}")
    await user.should_see("新增人员")
    user.find(marker="person-name").type("赵六")
    user.find(marker="person-mobile").type("138")
    user.find(marker="person-submit").click()
    await user.should_see("手机号码不合法")
    assert not await Person.filter(name="赵六").exists()
    user.find(marker="person-mobile").type("12345678")
    user.find(marker="person-login_name").type("zhangsan")
    user.find(marker="person-submit").click()
    await user.should_see("已被「张三」使用")
    user.find(marker="person-login_name").clear()
    user.find(marker="person-login_name").type("zhaoliu")
    user.find(marker="person-title").type("工程师")
    user.find(marker="person-submit").click()
    await user.should_see("人员已保存")
    person = await Person.get(name="赵六")
    assert person.main_dept_id == rd.id and person.login_name == "zhaoliu" and person.title == "工程师"
    await user.open(f"/contacts/person/{person.id}/edit")
    user.find(marker="person-title").clear()
    user.find(marker="person-title").type("架构师")
    user.find(marker="person-submit").click()
    await user.should_see(marker="view-person-name")
    assert (await Person.get(id=person.id)).title == "架构师"


async def test_delete_person_and_refuse_non_empty_department(user: User) -> None:
    tree = await _start(user)
    wang = tree.people["王五"]
    await user.open(f"/contacts/person/{wang.id}")
    user.find(marker="person-delete").click()
    await user.should_see("置为无效（不会从数据库删除）")
    user.find(marker="confirm-ok").click()
    await user.should_see("已将「王五」置为无效")
    assert (await Person.get(id=wang.id)).is_active is False
    await user.open(f"/contacts/dept/{tree.depts['研发部'].id}")
    user.find(marker="dept-delete").click()
    await user.should_see("还有 2 名人员")
    assert not (await Department.get(id=tree.depts["研发部"].id)).is_deleted


async def test_batch_delete_in_other_department_only_removes_it(user: User) -> None:
    tree = await _start(user)
    market = tree.depts["市场部"]
    li = tree.people["李四"]
    await user.open(f"/contacts?dept={market.id}")
    table = user.find(marker="person-table").elements.pop()

    async def listed() -> bool:  # the member list is filled after the page is built
        return any(r["id"] == li.id for r in table.rows)

    await eventually(listed)
    table.selected = [r for r in table.rows if r["id"] == li.id]
    user.find(marker="person-batch-delete").click()
    await user.should_see("1 名人员将从其他部门中移除本部门")
    user.find(marker="confirm-ok").click()
    await user.should_see("已从其他部门中移除本部门")
    li = await Person.get(id=li.id)
    assert li.is_active and await li.other_depts.all().count() == 0


async def test_department_admin_sees_only_their_subtree(user: User) -> None:
    tree = await _start(user, Role.DEPT_ADMIN, "研发部")
    await user.open("/contacts")
    await user.should_see("研发部(2)")
    await user.should_not_see("叮当科技(4)")
    await user.should_not_see("市场部")
    await user.open(f"/contacts?dept={tree.depts['市场部'].id}")
    await user.should_see("不在您管理的范围内")
    await user.open(f"/contacts/person/{tree.people['王五'].id}")
    await user.should_see("不在您管理的范围内")
    await user.should_not_see("王五")
    user.find(marker="contacts-search").type("王").trigger("keydown.enter")
    await user.should_see("没有找到匹配的部门或人员")
