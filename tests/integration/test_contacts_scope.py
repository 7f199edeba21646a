"""Role scoping: a department admin sees and edits only their subtrees; nobody sees another org's contacts."""

from __future__ import annotations

import pytest

from app.models.accounts import Role
from app.models.contacts import Person
from app.services import address_book
from app.services.contacts import departments, people
from app.services.contacts import search as contacts_search
from app.services.contacts.dept_form import DeptInput
from app.services.errors import PermissionDenied, ValidationFailed
from tests import contacts_factory as cf


@pytest.fixture
async def tree(orm):
    return await cf.build()


@pytest.fixture
async def rd_admin(tree):
    return await cf.actor("rd", Role.DEPT_ADMIN, tree.org, [tree.depts["研发部"].id])


async def test_tree_starts_at_the_admins_departments(tree, rd_admin) -> None:
    top = await departments.tree_children(rd_admin, tree.org.id)
    assert [(n.name, n.count) for n in top] == [("研发部", 2)]
    with pytest.raises(PermissionDenied):
        await departments.tree_children(rd_admin, tree.org.id, tree.root.id)
    with pytest.raises(PermissionDenied):
        await departments.list_children(rd_admin, tree.org.id, tree.root.id)


async def test_direct_reads_outside_the_scope_are_refused(tree, rd_admin) -> None:
    with pytest.raises(PermissionDenied):
        await departments.get_department(rd_admin, tree.org.id, tree.depts["市场部"].id)
    with pytest.raises(PermissionDenied):
        await people.get_person_detail(rd_admin, tree.org.id, tree.people["王五"].id)
    with pytest.raises(PermissionDenied):
        await people.list_members(rd_admin, tree.org.id, tree.depts["市场部"].id)
    detail = await departments.get_department(rd_admin, tree.org.id, tree.depts["前端组"].id)
    assert [name for _, name in detail.path_names] == ["研发部", "前端组"]  # the root stays hidden


async def test_writes_outside_the_scope_are_refused(tree, rd_admin) -> None:
    with pytest.raises(ValidationFailed, match="不在您管理的范围内") as err:
        await departments.create_department(rd_admin, tree.org.id, DeptInput(name="新部门", parent_id=tree.root.id))
    assert err.value.field == "parent_id"
    with pytest.raises(PermissionDenied):
        await departments.delete_department(rd_admin, tree.org.id, tree.depts["市场部"].id)
    with pytest.raises(PermissionDenied):
        await people.disable_person(rd_admin, tree.org.id, tree.people["王五"].id)
    with pytest.raises(ValidationFailed, match="主部门不在您管理的范围内"):
        await people.create_person(
            rd_admin, tree.org.id, people.PersonInput(name="x", main_dept_id=tree.root.id, mobile="13911112222")
        )
    zhang = await people.get_person_detail(rd_admin, tree.org.id, tree.people["张三"].id)
    zhang.data.main_dept_id = tree.depts["市场部"].id
    with pytest.raises(ValidationFailed, match="主部门不在"):
        await people.update_person(rd_admin, tree.org.id, tree.people["张三"].id, zhang.data)
    await departments.create_department(
        rd_admin, tree.org.id, DeptInput(name="新部门", parent_id=tree.depts["研发部"].id)
    )


async def test_search_and_picker_stay_inside(tree, rd_admin) -> None:
    found = await contacts_search.search(rd_admin, tree.org.id, "部")
    assert [h.name for h in found.depts] == ["研发部"]
    found = await contacts_search.search(rd_admin, tree.org.id, "王")
    assert found.people == []
    found = await contacts_search.search(rd_admin, tree.org.id, "138")
    assert sorted(h.name for h in found.people) == ["张三", "李四"]
    picked = await address_book.search(rd_admin, tree.org.id, "市场", mode="dept")
    assert picked == []
    roots = await address_book.roots(rd_admin, tree.org.id)
    assert [r.name for r in roots] == ["研发部"]
    items = await address_book.resolve_items(
        rd_admin, tree.org.id, [("person", tree.people["王五"].id), ("person", tree.people["张三"].id)]
    )
    assert [i.name for i in items] == ["（不在管理范围）", "张三"]


async def test_hidden_other_departments_survive_an_edit(tree) -> None:
    market_admin = await cf.actor("mk", Role.DEPT_ADMIN, tree.org, [tree.depts["市场部"].id])
    li = tree.people["李四"]
    detail = await people.get_person_detail(market_admin, tree.org.id, li.id)  # visible via other department
    assert detail.main_dept_name == "（不在管理范围）" and detail.data.other_dept_ids == [tree.depts["市场部"].id]
    detail.data.title = "经理"
    await people.update_person(market_admin, tree.org.id, li.id, detail.data)
    li = await Person.get(id=li.id)
    assert li.title == "经理" and li.main_dept_id == tree.depts["前端组"].id


async def test_no_one_reads_another_orgs_contacts(tree) -> None:
    other = await cf.build("另一家", "dingcorp2")
    admin = await cf.actor("a1", Role.ORG_ADMIN, tree.org)
    with pytest.raises(PermissionDenied):
        await departments.tree_children(admin, other.org.id)
    with pytest.raises(PermissionDenied):
        await contacts_search.search(admin, other.org.id, "张")
    # ids of another org through this org's id find nothing
    from app.services.errors import NotFound

    with pytest.raises(NotFound):
        await departments.get_department(admin, tree.org.id, other.depts["研发部"].id)
    with pytest.raises(NotFound):
        await people.get_person_detail(admin, tree.org.id, other.people["张三"].id)
    found = await contacts_search.search(admin, tree.org.id, "张")
    assert [h.id for h in found.people] == [tree.people["张三"].id]
