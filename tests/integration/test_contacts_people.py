"""People: create/edit rules, 加入现有人员, delete = 置为无效, batch delete in main vs other department, paging."""

from __future__ import annotations

import pytest

from app.models.accounts import Role
from app.models.audit import AuditLog
from app.models.contacts import Person
from app.services.contacts import people
from app.services.contacts import search as contacts_search
from app.services.contacts.person_form import PersonInput
from app.services.errors import ValidationFailed
from tests import contacts_factory as cf


@pytest.fixture
async def tree(orm):
    return await cf.build()


@pytest.fixture
async def admin(tree):
    return await cf.actor("orgadmin", Role.ORG_ADMIN, tree.org)


def _input(tree, **values) -> PersonInput:
    base = {"name": "赵六", "main_dept_id": tree.depts["研发部"].id, "mobile": "13912345678"}
    base.update(values)
    return PersonInput(**base)


async def test_create_person_with_other_departments(tree, admin) -> None:
    pid = await people.create_person(
        admin,
        tree.org.id,
        _input(tree, other_dept_ids=[tree.depts["市场部"].id], login_name="zhaoliu", email="zl@example.com",
               job_number="A01", title="工程师", hide_mobile=True, senior_mode=True,
               avatar_url="https://img.example.com/a.png"),
    )  # fmt: skip
    detail = await people.get_person_detail(admin, tree.org.id, pid)
    assert detail.data.other_dept_ids == [tree.depts["市场部"].id]
    assert detail.data.hide_mobile and detail.data.senior_mode and detail.data.title == "工程师"
    person = await Person.get(id=pid)
    assert person.needs_push and person.feed_time > 0
    assert (await AuditLog.get(action="contacts.person.create")).after["mobile"] == "13912345678"


@pytest.mark.parametrize(
    ("values", "field", "message"),
    [
        ({"name": " "}, "name", "请填写姓名"),
        ({"mobile": "12345"}, "mobile", "手机号码不合法"),
        ({"mobile": ""}, "mobile", "请填写手机号"),
        ({"mobile": "+852-98765432"}, None, None),
        ({"login_name": "bad name"}, "login_name", "登录账号只能包含"),
        ({"login_name": "zhangsan"}, "login_name", "已被「张三」使用"),
        ({"email": "nope"}, "email", "邮箱格式"),
        ({"avatar_url": "ftp://x"}, "avatar_url", "头像url"),
        ({"main_dept_id": None}, "main_dept_id", "请选择主部门"),
    ],
)
async def test_person_rules(tree, admin, values, field, message) -> None:
    before = await Person.all().count()
    if message is None:
        await people.create_person(admin, tree.org.id, _input(tree, **values))
        return
    with pytest.raises(ValidationFailed) as err:
        await people.create_person(admin, tree.org.id, _input(tree, **values))
    assert err.value.field == field and message in err.value.message
    assert await Person.all().count() == before


async def test_mobile_unique_in_org_even_for_invalid_people(tree, admin) -> None:
    wang = tree.people["王五"]
    wang.is_active = False
    await wang.save()
    with pytest.raises(ValidationFailed, match="已被「王五」（已置为无效）使用"):
        await people.create_person(admin, tree.org.id, _input(tree, mobile=wang.mobile))
    other_org = await cf.factories.org("另一家", "dingcorp2")
    other_root = await cf.Department.get(org=other_org)
    await cf.person(other_org, other_root, "外人", mobile="13700000001")
    await people.create_person(admin, tree.org.id, _input(tree, mobile="13700000001"))  # another org: fine


async def test_at_most_100_departments(tree, admin) -> None:
    depts = [await cf.dept(tree.org, tree.root, f"部门{i}") for i in range(100)]
    with pytest.raises(ValidationFailed, match="最多属于 100 个部门") as err:
        await people.create_person(admin, tree.org.id, _input(tree, other_dept_ids=[d.id for d in depts]))
    assert err.value.field == "other_dept_ids"
    await people.create_person(admin, tree.org.id, _input(tree, other_dept_ids=[d.id for d in depts[:99]]))


async def test_edit_person_touches_feed_only_for_mapping_fields(tree, admin) -> None:
    zhang = tree.people["张三"]
    detail = await people.get_person_detail(admin, tree.org.id, zhang.id)
    data = detail.data
    data.title = "架构师"
    await people.update_person(admin, tree.org.id, zhang.id, data)
    assert (await Person.get(id=zhang.id)).feed_time == 0
    data.mobile = "13600000000"
    await people.update_person(admin, tree.org.id, zhang.id, data)
    assert (await Person.get(id=zhang.id)).feed_time > 0
    log = await AuditLog.filter(action="contacts.person.update").order_by("id").first()
    assert log.before["title"] == "" and log.after["title"] == "架构师"


async def test_delete_person_sets_invalid(tree, admin) -> None:
    zhang = tree.people["张三"]
    await people.disable_person(admin, tree.org.id, zhang.id)
    person = await Person.get(id=zhang.id)
    assert person.is_active is False and person.needs_push and person.feed_time > 0
    page = await people.list_members(admin, tree.org.id, tree.depts["研发部"].id)
    assert page.total == 0
    page = await people.list_members(admin, tree.org.id, tree.depts["研发部"].id, include_inactive=True)
    assert [r.name for r in page.rows] == ["张三"] and not page.rows[0].is_active


async def test_batch_delete_main_vs_other_department(tree, admin) -> None:
    market = tree.depts["市场部"]
    li, wang = tree.people["李四"], tree.people["王五"]
    plan = await people.batch_plan(admin, tree.org.id, market.id, [li.id, wang.id])
    assert plan.disable == [wang.id] and plan.remove == [li.id]
    assert "1 名以本部门为主部门的人员将被置为无效" in plan.text and "1 名人员将从其他部门中移除本部门" in plan.text
    await people.batch_delete(admin, tree.org.id, market.id, [li.id, wang.id])
    assert (await Person.get(id=wang.id)).is_active is False
    li = await Person.get(id=li.id)
    assert li.is_active and await li.other_depts.all().count() == 0
    assert (await people.list_members(admin, tree.org.id, market.id)).total == 0


async def test_add_existing_people(tree, admin) -> None:
    backend = tree.depts["后端组"]
    added = await people.add_existing(admin, tree.org.id, backend.id, [tree.people["张三"].id, tree.people["王五"].id])
    assert added == 2
    page = await people.list_members(admin, tree.org.id, backend.id)
    assert sorted(r.name for r in page.rows) == ["张三", "王五"] and not any(r.is_main for r in page.rows)
    assert await people.add_existing(admin, tree.org.id, backend.id, [tree.people["张三"].id]) == 0


async def test_department_of_250_paginates_completely(tree, admin) -> None:
    big = await cf.dept(tree.org, tree.root, "大部门")
    await Person.bulk_create(
        [Person(org=tree.org, main_dept=big, name=f"员工{i:03d}", mobile=f"1500000{i:04d}") for i in range(240)]
    )
    for i in range(10):
        await cf.person(tree.org, tree.root, f"兼职{i}", others=[big])
    seen: list[int] = []
    page_no = 1
    while True:
        page = await people.list_members(admin, tree.org.id, big.id, page=page_no, size=20, sort="mobile")
        assert page.total == 250
        seen += [r.id for r in page.rows]
        if page_no >= page.pages:
            break
        page_no += 1
    assert page_no == 13 and len(seen) == 250 and len(set(seen)) == 250
    desc = await people.list_members(admin, tree.org.id, big.id, page=1, size=5, sort="name", descending=True)
    assert [r.name for r in desc.rows] == sorted((r.name for r in desc.rows), reverse=True)


@pytest.mark.parametrize(
    ("values", "field", "message"),
    [
        ({"name": "赵\x00六"}, "name", "姓名不能包含空字符"),
        ({"name": "\u200b\u202e"}, "name", "不可见字符"),
        ({"mobile": "+852-9876"}, "mobile", "长度不符合 +852"),
    ],
)
async def test_input_dingtalk_would_refuse_changes_nothing(tree, admin, values, field, message) -> None:
    before = await Person.all().count()
    with pytest.raises(ValidationFailed) as err:
        await people.create_person(admin, tree.org.id, _input(tree, **values))
    assert err.value.field == field and message in err.value.message
    assert await Person.all().count() == before


async def test_a_full_width_mobile_is_stored_plain(tree, admin) -> None:
    pid = await people.create_person(admin, tree.org.id, _input(tree, mobile="＋86 １３９ １２３４ ５６７０"))
    assert (await Person.get(id=pid)).mobile == "13912345670"


async def test_extension_number_is_checked_next_to_its_field_and_kept(tree, admin) -> None:
    """分机号 (telephone), the example of docs/development.md's person-field walk-through."""
    with pytest.raises(ValidationFailed) as refused:
        await people.create_person(admin, tree.org.id, _input(tree, telephone="0571-8888<script>"))
    assert refused.value.field == "telephone" and "分机号" in refused.value.message
    assert not await Person.exists(name="赵六")
    pid = await people.create_person(admin, tree.org.id, _input(tree, telephone=" 0571-88886666 "))
    assert (await people.get_person_detail(admin, tree.org.id, pid)).data.telephone == "0571-88886666"


async def test_members_and_search_hits_are_in_pinyin_order_page_by_page(tree, admin) -> None:
    """Code-point order would put 张 before 李 and 阿 last; readers look names up by pinyin."""
    team = tree.depts["后端组"]
    for i, name in enumerate(["张三", "曾小贤", "李四", "阿明", "王五", "Bob"]):
        await people.create_person(
            admin, tree.org.id, PersonInput(name=name, main_dept_id=team.id, mobile=f"1370000000{i}")
        )
    first = await people.list_members(admin, tree.org.id, team.id, page=1, size=4)
    second = await people.list_members(admin, tree.org.id, team.id, page=2, size=4)
    assert [p.name for p in first.rows + second.rows] == ["阿明", "Bob", "李四", "王五", "曾小贤", "张三"]
    backwards = await people.list_members(admin, tree.org.id, team.id, size=10, descending=True)
    assert [p.name for p in backwards.rows][:2] == ["张三", "曾小贤"]
    found = await contacts_search.search(admin, tree.org.id, "137000", depts=False)
    assert [h.name for h in found.people] == ["阿明", "Bob", "李四", "王五", "曾小贤", "张三"]
