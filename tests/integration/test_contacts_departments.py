"""Departments: tree with counts, create/edit/move with DingTalk's rules, visibility settings, delete."""

from __future__ import annotations

import pytest

from app.core import change_tracking
from app.models.accounts import Role, RoleGrant
from app.models.audit import AuditLog
from app.models.contacts import Department
from app.services.contacts import departments
from app.services.contacts.dept_form import DeptInput
from app.services.errors import ValidationFailed
from tests import contacts_factory as cf


@pytest.fixture
async def tree(orm):
    return await cf.build()


@pytest.fixture
async def admin(tree):
    return await cf.actor("orgadmin", Role.ORG_ADMIN, tree.org)


async def test_tree_counts_each_person_once(tree, admin) -> None:
    top = await departments.tree_children(admin, tree.org.id)
    assert [(n.name, n.count, n.has_children) for n in top] == [("叮当科技", 4, True)]
    level1 = await departments.tree_children(admin, tree.org.id, tree.root.id)
    assert [(n.name, n.count, n.has_children) for n in level1] == [("研发部", 2, True), ("市场部", 2, False)]
    level2 = await departments.tree_children(admin, tree.org.id, tree.depts["研发部"].id)
    assert [(n.name, n.count) for n in level2] == [("前端组", 1), ("后端组", 0)]


async def test_disabled_people_are_not_counted(tree, admin) -> None:
    tree.people["王五"].is_active = False
    await tree.people["王五"].save()
    level1 = await departments.tree_children(admin, tree.org.id, tree.root.id)
    assert {n.name: n.count for n in level1}["市场部"] == 1  # 李四 stays through his other department


async def test_create_department_tracks_change_and_audits(tree, admin) -> None:
    events = []

    async def listener(org_id, event, detail):
        events.append((org_id, event, detail))

    change_tracking.subscribe(listener)
    try:
        new_id = await departments.create_department(
            admin, tree.org.id, DeptInput(name="测试部", parent_id=tree.depts["研发部"].id)
        )
    finally:
        change_tracking.clear_listeners()
    dept = await Department.get(id=new_id)
    assert dept.path == f"{tree.depts['研发部'].path}{new_id}/" and dept.depth == 2
    assert dept.needs_push and dept.feed_time > 0
    assert events == [(tree.org.id, "contacts.dept.create", {"dept_ids": [new_id]})]
    log = await AuditLog.get(action="contacts.dept.create")
    assert log.object_type == "department" and log.after["name"] == "测试部"


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("", "请填写部门名称"),
        ("a" * 65, "不能超过 64"),
        ("研发-一部", "不能包含"),
        ("研发,一部", "不能包含"),
        ("研发，一部", "不能包含"),
        ("前端组", "已有名为「前端组」"),
    ],
)
async def test_invalid_names_change_nothing(tree, admin, name, message) -> None:
    before = await Department.all().count()
    with pytest.raises(ValidationFailed) as err:
        await departments.create_department(admin, tree.org.id, DeptInput(name=name, parent_id=tree.depts["研发部"].id))
    assert message in err.value.message and err.value.field == "name"
    assert await Department.all().count() == before


async def test_same_name_allowed_under_another_parent(tree, admin) -> None:
    await departments.create_department(admin, tree.org.id, DeptInput(name="前端组", parent_id=tree.depts["市场部"].id))


async def test_move_rewrites_paths_and_refuses_cycles(tree, admin) -> None:
    rd = tree.depts["研发部"]
    detail = await departments.get_department(admin, tree.org.id, rd.id)
    data = detail.data
    data.parent_id = tree.depts["前端组"].id
    with pytest.raises(ValidationFailed, match="它自己或它的下级部门") as err:
        await departments.update_department(admin, tree.org.id, rd.id, data)
    assert err.value.field == "parent_id"
    data.parent_id = tree.depts["市场部"].id
    await departments.update_department(admin, tree.org.id, rd.id, data)
    fe = await Department.get(id=tree.depts["前端组"].id)
    assert fe.path == f"{tree.depts['市场部'].path}{rd.id}/{fe.id}/" and fe.depth == 3
    assert await AuditLog.filter(action="contacts.dept.move").count() == 1


async def test_root_cannot_move_or_be_deleted(tree, admin) -> None:
    data = (await departments.get_department(admin, tree.org.id, tree.root.id)).data
    data.parent_id = tree.depts["市场部"].id
    with pytest.raises(ValidationFailed, match="根部门"):
        await departments.update_department(admin, tree.org.id, tree.root.id, data)
    with pytest.raises(ValidationFailed, match="根部门"):
        await departments.delete_department(admin, tree.org.id, tree.root.id)


async def test_visibility_settings_round_trip(tree, admin) -> None:
    dept = tree.depts["市场部"]
    data = (await departments.get_department(admin, tree.org.id, dept.id)).data
    data.hide_mode = "some"
    data.hide_person_ids = [tree.people["张三"].id]
    data.hide_dept_ids = [tree.depts["研发部"].id]
    data.restrict_mode = "some"
    data.restrict_person_ids = [tree.people["陈园园"].id]
    data.restrict_dept_ids = [tree.depts["前端组"].id, tree.depts["后端组"].id]
    data.create_group = True
    data.group_include_sub = True
    await departments.update_department(admin, tree.org.id, dept.id, data)
    detail = await departments.get_department(admin, tree.org.id, dept.id)
    assert detail.data.hide_mode == "some" and detail.data.hide_person_ids == [tree.people["张三"].id]
    assert detail.data.hide_dept_ids == [tree.depts["研发部"].id]
    assert detail.data.restrict_mode == "some"
    assert detail.data.restrict_dept_ids == [tree.depts["前端组"].id, tree.depts["后端组"].id]
    assert detail.names[f"person:{tree.people['张三'].id}"] == "张三"
    assert detail.group_name == "市场部" and detail.group_size == 2
    assert detail.group_owner_name == "王五"  # the department's first person
    log = await AuditLog.filter(action="contacts.dept.update").first()
    assert log.before["hide_mode"] == "off" and log.after["hide_mode"] == "some"


async def test_permit_lists_are_limited_and_required(tree, admin) -> None:
    dept = tree.depts["市场部"]
    data = (await departments.get_department(admin, tree.org.id, dept.id)).data
    data.hide_mode = "some"
    with pytest.raises(ValidationFailed, match="请选择隐藏后可见") as err:
        await departments.update_department(admin, tree.org.id, dept.id, data)
    assert err.value.field == "hide_person_ids"
    many = [await cf.person(tree.org, tree.root, f"员工{i}") for i in range(51)]
    data.hide_person_ids = [p.id for p in many]
    with pytest.raises(ValidationFailed, match="隐藏后可见人员和部门合计不能超过 50"):
        await departments.update_department(admin, tree.org.id, dept.id, data)
    data.hide_mode, data.restrict_mode = "off", "some"
    with pytest.raises(ValidationFailed, match="请选择自身可见的人员或部门") as err:
        await departments.update_department(admin, tree.org.id, dept.id, data)
    assert err.value.field == "restrict_person_ids"
    stored = await Department.get(id=dept.id)
    assert (stored.hide_mode, stored.restrict_mode) == ("off", "off")


async def test_department_admin_gets_and_loses_a_scoped_grant(tree, admin) -> None:
    dept = tree.depts["研发部"]
    data = (await departments.get_department(admin, tree.org.id, dept.id)).data
    data.admin_ids = [tree.people["张三"].id]
    await departments.update_department(admin, tree.org.id, dept.id, data)
    grant = await RoleGrant.get(role=Role.DEPT_ADMIN, org_id=tree.org.id).select_related("account")
    assert grant.account.login == "zhangsan" and grant.dept_ids == [dept.id]
    assert grant.person_id == tree.people["张三"].id
    data.admin_ids = []
    await departments.update_department(admin, tree.org.id, dept.id, data)
    assert not await RoleGrant.filter(role=Role.DEPT_ADMIN, org_id=tree.org.id).exists()


async def test_delete_refuses_non_empty_department_with_the_count(tree, admin) -> None:
    with pytest.raises(ValidationFailed, match="还有 2 名人员"):
        await departments.delete_department(admin, tree.org.id, tree.depts["研发部"].id)
    with pytest.raises(ValidationFailed, match="还有 1 名人员"):
        await departments.delete_department(admin, tree.org.id, tree.depts["前端组"].id)
    await departments.delete_department(admin, tree.org.id, tree.depts["后端组"].id)
    gone = await Department.get(id=tree.depts["后端组"].id)
    assert gone.is_deleted and gone.needs_push
    level2 = await departments.tree_children(admin, tree.org.id, tree.depts["研发部"].id)
    assert [n.name for n in level2] == ["前端组"]
    # an emptied department with a sub-department is refused for the sub-department
    for p in ("张三", "李四"):
        tree.people[p].is_active = False
        await tree.people[p].save()
    with pytest.raises(ValidationFailed, match="还有 1 个下级部门"):
        await departments.delete_department(admin, tree.org.id, tree.depts["研发部"].id)
    # both selected together: allowed
    await departments.delete_departments(admin, tree.org.id, [tree.depts["研发部"].id, tree.depts["前端组"].id])
    assert await AuditLog.filter(action="contacts.dept.delete").count() == 3
