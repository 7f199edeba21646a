"""Contacts rules that tie people and departments together: 部门主管 must be members, 恢复有效 of an invalid person,
and a person set invalid leaving every 部门主管 / 部门管理员 list and 群主 place."""

from __future__ import annotations

import pytest

from app.models.accounts import Role, RoleGrant
from app.models.audit import AuditLog
from app.models.contacts import Department, Person
from app.services import audit, change_tracking, departments, people
from app.services.errors import PermissionDenied, ValidationFailed
from app.services.people import PersonInput
from tests import contacts_factory as cf


@pytest.fixture
async def tree(orm):
    return await cf.build()


@pytest.fixture
async def admin(tree):
    return await cf.actor("orgadmin", Role.ORG_ADMIN, tree.org)


@pytest.fixture
def events():
    seen: list[tuple[int, str, dict]] = []

    async def listener(org_id, event, detail):
        seen.append((org_id, event, detail))

    change_tracking.subscribe(listener)
    yield seen
    change_tracking.clear_listeners()


async def _pushed(*depts: Department) -> None:
    """As after a push: nothing waiting for DingTalk."""
    await Department.filter(id__in=[d.id for d in depts]).update(needs_push=False)


async def _edit(admin, tree, dept: Department, **values) -> None:
    data = (await departments.get_department(admin, tree.org.id, dept.id)).data
    for key, value in values.items():
        setattr(data, key, value)
    await departments.update_department(admin, tree.org.id, dept.id, data)


# ---------------------------------------------------------------- 部门主管 must be members


async def test_manager_outside_the_department_is_refused_and_nothing_changes(tree, admin) -> None:
    rd = tree.depts["研发部"]
    await _pushed(rd)
    wang = tree.people["王五"]  # 市场部 only
    with pytest.raises(ValidationFailed) as err:
        await _edit(admin, tree, rd, name="研发中心", manager_ids=[wang.id])
    assert err.value.field == "manager_ids"
    assert "部门主管「王五」不是本部门的人员" in err.value.message
    saved = await Department.get(id=rd.id)
    assert saved.name == "研发部" and saved.manager_ids == [] and saved.needs_push is False
    assert not await AuditLog.filter(action="contacts.dept.update").exists()


async def test_a_member_of_a_sub_department_is_not_a_member(tree, admin) -> None:
    li = tree.people["李四"]  # main department 前端组, below 研发部
    with pytest.raises(ValidationFailed, match="部门主管「李四」不是本部门的人员"):
        await _edit(admin, tree, tree.depts["研发部"], manager_ids=[li.id])


async def test_main_and_other_department_members_can_be_managers(tree, admin) -> None:
    market = tree.depts["市场部"]
    wang, li = tree.people["王五"], tree.people["李四"]  # 王五: main department; 李四: other department
    await _edit(admin, tree, market, manager_ids=[wang.id, li.id])
    detail = await departments.get_department(admin, tree.org.id, market.id)
    assert detail.data.manager_ids == [wang.id, li.id]
    assert [r.managers for r in (await departments.list_children(admin, tree.org.id, tree.root.id)).rows] == [
        "",
        "王五、李四",
    ]


async def test_invalid_member_cannot_become_manager(tree, admin) -> None:
    wang = tree.people["王五"]
    wang.is_active = False
    await wang.save()
    with pytest.raises(ValidationFailed, match="部门主管「王五」已置为无效") as err:
        await _edit(admin, tree, tree.depts["市场部"], manager_ids=[wang.id])
    assert err.value.field == "manager_ids"


async def test_new_department_cannot_have_managers_yet(tree, admin) -> None:
    before = await Department.all().count()
    data = departments.DeptInput(name="测试部", parent_id=tree.root.id, manager_ids=[tree.people["陈园园"].id])
    with pytest.raises(ValidationFailed) as err:
        await departments.create_department(admin, tree.org.id, data)
    assert err.value.field == "manager_ids" and "加入人员后" in err.value.message
    assert await Department.all().count() == before
    data.manager_ids = []
    await departments.create_department(admin, tree.org.id, data)


async def test_managers_already_on_the_department_are_not_checked_again(tree, admin) -> None:
    rd = tree.depts["研发部"]
    wang, chen = tree.people["王五"], tree.people["陈园园"]
    rd.manager_ids = [wang.id]  # e.g. pulled from DingTalk before our rule existed
    await rd.save()
    await _edit(admin, tree, rd, name="研发中心")
    saved = await Department.get(id=rd.id)
    assert saved.name == "研发中心" and saved.manager_ids == [wang.id]
    with pytest.raises(ValidationFailed, match="部门主管「陈园园」不是本部门的人员"):
        await _edit(admin, tree, rd, manager_ids=[wang.id, chen.id])
    assert (await Department.get(id=rd.id)).manager_ids == [wang.id]


async def test_group_owner_must_still_be_a_member(tree, admin) -> None:
    rd = tree.depts["研发部"]
    with pytest.raises(ValidationFailed, match="群主必须是本部门的有效人员") as err:
        await _edit(admin, tree, rd, create_group=True, group_owner_id=tree.people["王五"].id)
    assert err.value.field == "group_owner_id"
    assert (await Department.get(id=rd.id)).create_group is False


# ---------------------------------------------------------------- 恢复有效


async def test_restore_person_makes_them_valid_again(tree, admin, events) -> None:
    zhang = tree.people["张三"]
    rd = tree.depts["研发部"]
    await people.disable_person(admin, tree.org.id, zhang.id)
    await Person.filter(id=zhang.id).update(needs_push=False, feed_time=1)  # as after the push
    events.clear()
    await people.restore_person(admin, tree.org.id, zhang.id)
    person = await Person.get(id=zhang.id)
    assert person.is_active and person.needs_push and person.feed_time > 1
    assert [r.name for r in (await people.list_members(admin, tree.org.id, rd.id)).rows] == ["张三"]
    level1 = await departments.tree_children(admin, tree.org.id, tree.root.id)
    assert {n.name: n.count for n in level1}["研发部"] == 2
    assert (await people.get_person_detail(admin, tree.org.id, zhang.id)).is_active
    log = await AuditLog.get(action="contacts.person.restore")
    assert log.object_name == "张三" and log.before["is_active"] is False and log.after == {"is_active": True}
    assert audit.action_label(log.action) == "恢复人员"
    assert events == [(tree.org.id, "contacts.person.restore", {"person_ids": [zhang.id]})]


async def test_restore_refuses_a_valid_person(tree, admin) -> None:
    with pytest.raises(ValidationFailed, match="「张三」已是有效人员"):
        await people.restore_person(admin, tree.org.id, tree.people["张三"].id)
    assert not await AuditLog.filter(action="contacts.person.restore").exists()


async def test_restore_refuses_when_the_main_department_was_deleted(tree, admin) -> None:
    temp = await cf.dept(tree.org, tree.root, "临时组")
    zhao = await cf.person(tree.org, temp, "赵六")
    await people.disable_person(admin, tree.org.id, zhao.id)
    await departments.delete_department(admin, tree.org.id, temp.id)
    with pytest.raises(ValidationFailed) as err:
        await people.restore_person(admin, tree.org.id, zhao.id)
    assert "主部门「临时组」已删除" in err.value.message and "请先编辑人员修改主部门" in err.value.message
    assert (await Person.get(id=zhao.id)).is_active is False
    assert not await AuditLog.filter(action="contacts.person.restore").exists()
    # after moving them to a live main department, restoring works
    data = (await people.get_person_detail(admin, tree.org.id, zhao.id)).data
    data.main_dept_id = tree.depts["市场部"].id
    await people.update_person(admin, tree.org.id, zhao.id, data)
    await people.restore_person(admin, tree.org.id, zhao.id)
    assert (await Person.get(id=zhao.id)).is_active


async def test_restore_refuses_a_mobile_now_used_by_a_valid_person(tree, admin) -> None:
    wang = tree.people["王五"]
    wang.mobile = "+86-13912340000"
    await wang.save()
    await people.disable_person(admin, tree.org.id, wang.id)
    # Stored differently, but DingTalk sees one number: only one of them may be valid.
    await people.create_person(
        admin, tree.org.id, PersonInput(name="赵六", main_dept_id=tree.depts["市场部"].id, mobile="13912340000")
    )
    await Person.filter(id=wang.id).update(needs_push=False)
    with pytest.raises(ValidationFailed) as err:
        await people.restore_person(admin, tree.org.id, wang.id)
    assert err.value.field == "mobile" and "已被有效人员「赵六」使用" in err.value.message
    person = await Person.get(id=wang.id)
    assert person.is_active is False and person.needs_push is False
    assert not await AuditLog.filter(action="contacts.person.restore").exists()


async def test_restore_needs_edit_permission_in_scope(tree, admin) -> None:
    wang = tree.people["王五"]
    await people.disable_person(admin, tree.org.id, wang.id)
    rd_admin = await cf.actor("rdadmin", Role.DEPT_ADMIN, tree.org, [tree.depts["研发部"].id])
    with pytest.raises(PermissionDenied):
        await people.restore_person(rd_admin, tree.org.id, wang.id)
    assert (await Person.get(id=wang.id)).is_active is False
    market_admin = await cf.actor("mkadmin", Role.DEPT_ADMIN, tree.org, [tree.depts["市场部"].id])
    await people.restore_person(market_admin, tree.org.id, wang.id)
    assert (await Person.get(id=wang.id)).is_active


# ---------------------------------------------------------------- set invalid -> leaves managers, admins, owner


async def test_disable_removes_the_person_from_managers_admins_and_group_owner(tree, admin) -> None:
    rd, market, fe = tree.depts["研发部"], tree.depts["市场部"], tree.depts["前端组"]
    zhang, chen = tree.people["张三"], tree.people["陈园园"]
    await people.add_existing(admin, tree.org.id, market.id, [zhang.id])
    await people.add_existing(admin, tree.org.id, rd.id, [chen.id])
    await _edit(admin, tree, rd, manager_ids=[zhang.id, chen.id], admin_ids=[zhang.id])
    await _edit(admin, tree, market, manager_ids=[zhang.id], create_group=True, group_owner_id=zhang.id)
    assert await RoleGrant.filter(role=Role.DEPT_ADMIN, person_id=zhang.id).exists()
    await _pushed(rd, market, fe)

    await people.disable_person(admin, tree.org.id, zhang.id)

    rd_view = await departments.get_department(admin, tree.org.id, rd.id)
    assert rd_view.data.manager_ids == [chen.id] and rd_view.data.admin_ids == []
    market_view = await departments.get_department(admin, tree.org.id, market.id)
    assert market_view.data.manager_ids == [] and market_view.data.group_owner_id is None
    assert market_view.group_owner_name == "王五"  # the default owner: the department's first valid person
    assert (await Department.get(id=rd.id)).needs_push and (await Department.get(id=market.id)).needs_push
    assert (await Department.get(id=fe.id)).needs_push is False  # untouched departments stay as pushed
    assert not await RoleGrant.filter(role=Role.DEPT_ADMIN, person_id=zhang.id).exists()
    logs = {
        int(log.object_id): log
        for log in await AuditLog.filter(action="contacts.dept.update", detail__contains="置为无效").order_by("id")
    }
    assert set(logs) == {rd.id, market.id}
    assert logs[rd.id].before["manager_ids"] == [zhang.id, chen.id] and logs[rd.id].after["manager_ids"] == [chen.id]
    assert logs[rd.id].before["admin_ids"] == [zhang.id] and logs[rd.id].after["admin_ids"] == []
    assert logs[rd.id].detail == "「张三」置为无效，已从部门主管、部门管理员中移除"
    assert logs[market.id].before["group_owner_id"] == zhang.id and logs[market.id].after["group_owner_id"] is None
    assert logs[market.id].detail == "「张三」置为无效，已从部门主管、群主中移除"


async def test_refused_disable_leaves_the_manager_lists_alone(tree, admin) -> None:
    market = tree.depts["市场部"]
    wang = tree.people["王五"]
    await _edit(admin, tree, market, manager_ids=[wang.id])
    await people.disable_person(admin, tree.org.id, wang.id)
    await _pushed(market)
    with pytest.raises(ValidationFailed, match="已是无效人员"):
        await people.disable_person(admin, tree.org.id, wang.id)
    assert (await Department.get(id=market.id)).needs_push is False


async def test_batch_delete_removes_disabled_people_from_department_roles(tree, admin) -> None:
    market = tree.depts["市场部"]
    wang, li = tree.people["王五"], tree.people["李四"]
    zhao = await cf.person(tree.org, market, "赵六", login_name="zhaoliu")
    await _edit(admin, tree, market, manager_ids=[wang.id, zhao.id, li.id], admin_ids=[zhao.id])
    await _edit(admin, tree, tree.root, admin_ids=[wang.id])
    await _pushed(market, tree.root)

    plan = await people.batch_delete(admin, tree.org.id, market.id, [wang.id, zhao.id])

    assert sorted(plan.disable) == sorted([wang.id, zhao.id])
    saved = await Department.get(id=market.id)
    assert saved.manager_ids == [li.id] and saved.admin_ids == [] and saved.needs_push
    root = await Department.get(id=tree.root.id)
    assert root.admin_ids == [] and root.needs_push
    log = await AuditLog.get(action="contacts.dept.update", object_id=str(market.id), detail__contains="置为无效")
    assert log.before["manager_ids"] == [wang.id, zhao.id, li.id] and log.after["manager_ids"] == [li.id]
    assert "「王五」" in log.detail and "「赵六」" in log.detail
    assert not await RoleGrant.filter(role=Role.DEPT_ADMIN, org_id=tree.org.id).exists()
