"""Contacts rules that tie people and departments together: 部门主管 must be members, 恢复有效 of an invalid person,
a person set invalid leaving every 部门主管 / 部门管理员 list and 群主 place, a person leaving a department leaving
its 部门主管 list and 群主 place, and 手机号 unique in the org whether written with "+86-" or not."""

from __future__ import annotations

import pytest

from app import runtime
from app.core import change_tracking
from app.models.accounts import Role, RoleGrant
from app.models.audit import AuditLog
from app.models.contacts import Department, Person
from app.models.sync import RunResult, SyncEntry
from app.services import audit
from app.services.contacts import departments, people
from app.services.contacts.person_form import PersonInput
from app.services.errors import PermissionDenied, ValidationFailed
from app.sync import runner
from tests import contacts_factory as cf
from tests.integration import sync_env

env = sync_env.env


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
    # Stored differently, but DingTalk sees one number: only one of them may be valid. (The form refuses the number
    # outright, see test_mobile_uniqueness_ignores_the_mainland_prefix; an import stores what it is given.)
    await cf.person(tree.org, tree.depts["市场部"], "赵六", mobile="13912340000")
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


# ---------------------------------------------------------------- leaving a department -> leaves its managers, owner


async def _move(admin, tree, person: Person, **values) -> None:
    data = (await people.get_person_detail(admin, tree.org.id, person.id)).data
    for key, value in values.items():
        setattr(data, key, value)
    await people.update_person(admin, tree.org.id, person.id, data)


async def _left_logs(dept: Department) -> list[AuditLog]:
    return await AuditLog.filter(
        action="contacts.dept.update", object_id=str(dept.id), detail__contains="不再是"
    ).order_by("id")


async def test_removed_from_an_other_department_leaves_its_managers_and_group_owner(tree, admin) -> None:
    market, fe = tree.depts["市场部"], tree.depts["前端组"]
    wang, li = tree.people["王五"], tree.people["李四"]  # 李四: main 前端组, other 市场部
    await _edit(
        admin, tree, market, manager_ids=[wang.id, li.id], admin_ids=[li.id], create_group=True, group_owner_id=li.id
    )
    await _edit(admin, tree, fe, manager_ids=[li.id])
    await _pushed(market, fe, tree.root)

    plan = await people.batch_delete(admin, tree.org.id, market.id, [li.id])

    assert plan.remove == [li.id] and plan.disable == []
    view = await departments.get_department(admin, tree.org.id, market.id)
    assert view.data.manager_ids == [wang.id] and view.data.group_owner_id is None
    assert view.group_owner_name == "王五"  # the default owner again: the department's first valid person
    assert view.data.admin_ids == [li.id]  # 部门管理员 is a LanDing admin role, not a membership
    assert await RoleGrant.filter(role=Role.DEPT_ADMIN, person_id=li.id).exists()
    assert (await Department.get(id=market.id)).needs_push
    saved_fe = await Department.get(id=fe.id)  # still their main department: nothing changes there
    assert saved_fe.manager_ids == [li.id] and saved_fe.needs_push is False
    assert (await Person.get(id=li.id)).is_active
    [log] = await _left_logs(market)
    assert log.before["manager_ids"] == [wang.id, li.id] and log.after["manager_ids"] == [wang.id]
    assert log.before["group_owner_id"] == li.id and log.after["group_owner_id"] is None
    assert log.before["admin_ids"] == log.after["admin_ids"] == [li.id]
    assert log.detail == "「李四」不再是本部门的人员（已从其他部门「市场部」中移除），已从部门主管、群主中移除"
    assert audit.action_label(log.action) == audit.action_label("contacts.dept.update")


async def test_a_new_main_department_leaves_the_old_one_s_managers_and_group_owner(tree, admin) -> None:
    rd, market = tree.depts["研发部"], tree.depts["市场部"]
    zhang, chen = tree.people["张三"], tree.people["陈园园"]
    await people.add_existing(admin, tree.org.id, rd.id, [chen.id])
    await _edit(
        admin,
        tree,
        rd,
        manager_ids=[zhang.id, chen.id],
        admin_ids=[zhang.id],
        create_group=True,
        group_owner_id=zhang.id,
    )
    await _pushed(rd, market, tree.root)

    await _move(admin, tree, zhang, main_dept_id=market.id)

    saved = await Department.get(id=rd.id)
    assert saved.manager_ids == [chen.id] and saved.group_owner_id is None and saved.needs_push
    assert saved.admin_ids == [zhang.id]
    assert (await departments.get_department(admin, tree.org.id, rd.id)).group_owner_name == "陈园园"
    assert (await Department.get(id=market.id)).needs_push is False
    [log] = await _left_logs(rd)
    assert log.before["manager_ids"] == [zhang.id, chen.id] and log.after["manager_ids"] == [chen.id]
    assert log.detail == ("「张三」不再是本部门的人员（编辑人员时修改了主部门或其他部门），已从部门主管、群主中移除")
    assert await AuditLog.filter(action="contacts.person.update", object_id=str(zhang.id)).count() == 1


async def test_other_departments_dropped_in_the_form_leave_their_managers(tree, admin) -> None:
    market, fe = tree.depts["市场部"], tree.depts["前端组"]
    li = tree.people["李四"]
    await _edit(admin, tree, market, manager_ids=[li.id])
    await _edit(admin, tree, fe, manager_ids=[li.id])
    await _pushed(market, fe)

    # Main and other department swapped: still a member of both, the roles stay.
    await _move(admin, tree, li, main_dept_id=market.id, other_dept_ids=[fe.id])
    for dept in (market, fe):
        saved = await Department.get(id=dept.id)
        assert saved.manager_ids == [li.id] and saved.needs_push is False
    assert not await AuditLog.filter(action="contacts.dept.update", detail__contains="不再是").exists()

    await _move(admin, tree, li, other_dept_ids=[])

    saved_fe, saved_market = await Department.get(id=fe.id), await Department.get(id=market.id)
    assert saved_fe.manager_ids == [] and saved_fe.needs_push
    assert saved_market.manager_ids == [li.id] and saved_market.needs_push is False
    [log] = await _left_logs(fe)
    assert log.detail.startswith("「李四」不再是本部门的人员") and log.detail.endswith("已从部门主管中移除")


async def test_a_group_with_sub_departments_keeps_its_owner_while_they_stay_below(tree, admin) -> None:
    rd, be, market = tree.depts["研发部"], tree.depts["后端组"], tree.depts["市场部"]
    li = tree.people["李四"]  # main 前端组 (below 研发部), other 市场部
    await _edit(admin, tree, rd, create_group=True, group_include_sub=True, group_owner_id=li.id)
    await _pushed(rd)

    await _move(admin, tree, li, main_dept_id=be.id)  # still below 研发部
    saved = await Department.get(id=rd.id)
    assert saved.group_owner_id == li.id and saved.needs_push is False

    await _move(admin, tree, li, main_dept_id=market.id)  # nowhere below 研发部 any more
    saved = await Department.get(id=rd.id)
    assert saved.group_owner_id is None and saved.needs_push
    [log] = await _left_logs(rd)
    assert log.detail == ("「李四」不再是本部门及下级部门的人员（编辑人员时修改了主部门或其他部门），已从群主中移除")


async def test_refused_membership_changes_leave_the_department_roles_alone(tree, admin) -> None:
    rd, market = tree.depts["研发部"], tree.depts["市场部"]
    zhang, wang = tree.people["张三"], tree.people["王五"]
    await _edit(admin, tree, rd, manager_ids=[zhang.id], create_group=True, group_owner_id=zhang.id)
    await _pushed(rd, market)

    with pytest.raises(ValidationFailed) as err:
        await _move(admin, tree, zhang, main_dept_id=market.id, mobile=wang.mobile)
    assert err.value.field == "mobile"
    with pytest.raises(ValidationFailed, match="请选择本部门中的有效人员"):
        await people.batch_delete(admin, tree.org.id, market.id, [zhang.id])  # not a member of 市场部

    assert (await Person.get(id=zhang.id)).main_dept_id == rd.id
    saved = await Department.get(id=rd.id)
    assert saved.manager_ids == [zhang.id] and saved.group_owner_id == zhang.id and saved.needs_push is False
    assert not await AuditLog.filter(action__in=["contacts.person.update", "contacts.person.remove_dept"]).exists()
    assert not await AuditLog.filter(action="contacts.dept.update", detail__contains="不再是").exists()


async def test_dingtalk_accepts_the_managers_of_a_department_a_manager_left(env) -> None:
    assert (await runner.run(env.org.id, rt=runtime.get())).result == RunResult.SUCCESS
    admin = await sync_env.org_admin(env.org)
    valid = await Person.filter(org_id=env.org.id, is_active=True, ding_userid__not_isnull=True).order_by("id")
    stays = valid[0]
    dept = await Department.get(id=stays.main_dept_id)
    leaves = next(p for p in valid if p.main_dept_id != dept.id)
    await people.add_existing(admin, env.org.id, dept.id, [leaves.id])
    data = (await departments.get_department(admin, env.org.id, dept.id)).data
    data.manager_ids = [leaves.id]
    await departments.update_department(admin, env.org.id, dept.id, data)
    assert (await runner.run(env.org.id, rt=runtime.get())).result == RunResult.SUCCESS
    assert env.ding_depts()[dept.ding_id].dept_manager_userid_list == [leaves.ding_userid]

    await people.batch_delete(admin, env.org.id, dept.id, [leaves.id])
    # Later the admin names a second manager: DingTalk must accept the whole list.
    data = (await departments.get_department(admin, env.org.id, dept.id)).data
    data.manager_ids = [*data.manager_ids, stays.id]
    await departments.update_department(admin, env.org.id, dept.id, data)
    run = await runner.run(env.org.id, rt=runtime.get())

    errors = [e.message for e in await SyncEntry.filter(run_id=run.id, ok=False)]
    assert run.result == RunResult.SUCCESS, errors
    assert env.ding_depts()[dept.ding_id].dept_manager_userid_list == [stays.ding_userid]
    assert dept.ding_id not in env.ding_users()[leaves.ding_userid].dept_id_list


# ---------------------------------------------------------------- 手机号 unique in the org, "+86-" or not


async def test_mobile_uniqueness_ignores_the_mainland_prefix(tree, admin) -> None:
    market = tree.depts["市场部"]
    wang, zhang = tree.people["王五"], tree.people["张三"]
    wang.mobile = "+86-13912340000"
    await wang.save()
    count = await Person.all().count()
    with pytest.raises(ValidationFailed) as err:
        await people.create_person(
            admin, tree.org.id, PersonInput(name="赵六", main_dept_id=market.id, mobile="13912340000")
        )
    assert err.value.field == "mobile"
    assert err.value.message == "手机号「13912340000」已被「王五」使用（登记为 +86-13912340000）"
    assert await Person.all().count() == count

    # Their own number, rewritten in the other form, is still theirs.
    await _move(admin, tree, wang, mobile="13912340000")
    assert (await Person.get(id=wang.id)).mobile == "13912340000"

    old_mobile = zhang.mobile
    with pytest.raises(ValidationFailed) as err:
        await _move(admin, tree, zhang, mobile="+86-13912340000")
    assert err.value.field == "mobile"
    # Typed with +86, the number is normalised to its plain mainland form before the check.
    assert err.value.message == "手机号「13912340000」已被「王五」使用"
    assert (await Person.get(id=zhang.id)).mobile == old_mobile
    assert not await AuditLog.filter(action="contacts.person.update", object_id=str(zhang.id)).exists()

    # A number under another country code is another number (and must follow that country's rules).
    await people.create_person(
        admin, tree.org.id, PersonInput(name="赵六", main_dept_id=market.id, mobile="+852-91234000")
    )


async def test_mobile_of_an_invalid_person_is_taken_in_either_form(tree, admin) -> None:
    wang = tree.people["王五"]
    await people.disable_person(admin, tree.org.id, wang.id)
    with pytest.raises(ValidationFailed) as err:
        await people.create_person(
            admin,
            tree.org.id,
            PersonInput(name="赵六", main_dept_id=tree.depts["市场部"].id, mobile=f"+86-{wang.mobile}"),
        )
    assert err.value.field == "mobile"
    assert err.value.message.startswith(f"手机号「{wang.mobile}」已被「王五」（已置为无效）使用")  # normalised
    assert not await Person.filter(name="赵六").exists()
