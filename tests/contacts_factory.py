"""Contacts test data: a small department tree with people, and actors of each role."""

from __future__ import annotations

from dataclasses import dataclass, field

from app.models.accounts import Role
from app.models.contacts import Department, Person
from app.models.orgs import Org
from app.models.tree import create_department
from app.services import accounts
from app.services.permissions import Actor
from tests import factories


@dataclass
class Tree:
    org: Org
    root: Department
    depts: dict[str, Department] = field(default_factory=dict)
    people: dict[str, Person] = field(default_factory=dict)


async def dept(org: Org, parent: Department, name: str) -> Department:
    return await create_department(org_id=org.id, parent=parent, name=name)


_mobile = [13800000000]


async def person(org: Org, main: Department, name: str, *, others: list[Department] = (), **values) -> Person:
    _mobile[0] += 1
    values.setdefault("mobile", str(_mobile[0]))
    p = await Person.create(org=org, main_dept=main, name=name, **values)
    if others:
        await p.other_depts.add(*others)
    return p


async def build(name: str = "叮当科技", corpid: str = "dingcorp1") -> Tree:
    """叮当科技 ── 研发部 ── 前端组
                     └─ 后端组
              └─ 市场部
    People: 陈园园 (root), 张三 (研发部), 李四 (前端组, also 市场部), 王五 (市场部)."""
    org = await factories.org(name, corpid, is_main=True)
    root = await Department.get(org=org, parent=None)
    tree = Tree(org, root)
    tree.depts["研发部"] = await dept(org, root, "研发部")
    tree.depts["前端组"] = await dept(org, tree.depts["研发部"], "前端组")
    tree.depts["后端组"] = await dept(org, tree.depts["研发部"], "后端组")
    tree.depts["市场部"] = await dept(org, root, "市场部")
    tree.people["陈园园"] = await person(org, root, "陈园园", login_name="chenyy")
    tree.people["张三"] = await person(org, tree.depts["研发部"], "张三", login_name="zhangsan")
    tree.people["李四"] = await person(org, tree.depts["前端组"], "李四", others=[tree.depts["市场部"]])
    tree.people["王五"] = await person(org, tree.depts["市场部"], "王五")
    return tree


async def actor(login: str, role: Role, org: Org | None, dept_ids: list[int] | None = None) -> Actor:
    acc = await factories.account(login, role, org if role != Role.SUPER_ADMIN else None, dept_ids)
    loaded = await accounts.load_actor(acc.id, org.id if org else None)
    assert loaded is not None
    return loaded
