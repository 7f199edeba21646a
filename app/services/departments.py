"""Departments (guide 3.3.5.2-3.3.5.4, 3.3.5.8): the lazy tree with member counts, create/edit/move/delete.

Member counts avoid N+1: one scan of (id, path) over the covered subtree, one GROUP BY main_dept_id over the active
people, one join for other-department memberships; Python folds them onto the requested nodes. A person counts once
per node even when both their main and an other department lie below it.

Validation follows DingTalk's rules (dingtalk-api.md section 2): names of 1-64 characters without "-", "," or "，",
unique under one parent, permit lists of at most 50 entries, no cycles.
"""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import asdict, dataclass, field

from tortoise import Tortoise
from tortoise.expressions import Q

from app.core import dingtalk_limits
from app.models.accounts import Role, RoleGrant
from app.models.contacts import Department, HideMode, Person, RestrictMode
from app.models.orgs import Org
from app.models.tree import create_department as _insert_department
from app.models.tree import move_subtree, path_ids, subtree_range_q
from app.services import accounts
from app.services.contacts_scope import Paged, Scope, get_dept, page_bounds, resolve
from app.services.errors import NotFound, PermissionDenied, ValidationFailed
from app.services.permissions import Actor, Perm
from app.services.write import Write, write

NAME_MAX = 64
NAME_FORBIDDEN = ("-", ",", "，")
PERMIT_LIMIT = 50  # DingTalk: hidden-dept permits and restricted-view permits, persons + depts combined
TREE_CHILD_LIMIT = 300  # the tree lists this many children; the paged list on the right shows all

HIDE_MODES = {
    HideMode.OFF.value: "关闭",
    HideMode.ALL.value: "向所有部门/人员隐藏",
    HideMode.SOME.value: "指定部分部门/人员可见",
}
RESTRICT_MODES = {
    RestrictMode.OFF.value: "关闭",
    RestrictMode.NONE.value: "不能查看所有通讯录",
    RestrictMode.SELF.value: "只能查看所在部门及下级部门/人员通讯录",
    RestrictMode.SOME.value: "只能查看指定部分部门/人员通讯录",
}


@dataclass
class DeptNode:
    id: int
    name: str
    count: int | None
    has_children: bool
    depth: int
    parent_id: int | None


@dataclass
class DeptRow:
    id: int
    name: str
    count: int
    managers: str
    order: int


@dataclass
class DeptInput:
    """What the 新增部门 / 编辑部门 form submits (ids are person or department ids of the same org)."""

    name: str = ""
    parent_id: int | None = None
    manager_ids: list[int] = field(default_factory=list)
    admin_ids: list[int] = field(default_factory=list)
    create_group: bool = False
    group_owner_id: int | None = None
    group_include_sub: bool = False
    hide_mode: str = HideMode.OFF.value
    hide_person_ids: list[int] = field(default_factory=list)
    hide_dept_ids: list[int] = field(default_factory=list)
    restrict_mode: str = RestrictMode.OFF.value
    restrict_person_ids: list[int] = field(default_factory=list)
    restrict_dept_ids: list[int] = field(default_factory=list)


@dataclass
class DeptDetail:
    id: int
    name: str
    parent_id: int | None
    parent_name: str
    path_names: list[tuple[int, str]]
    is_root: bool
    data: DeptInput
    names: dict[str, str]  # "person:12" / "dept:5" -> display name (out-of-scope ones are masked)
    group_name: str
    group_owner_name: str
    group_size: int
    member_count: int
    sub_count: int
    editable: bool


# ---------------------------------------------------------------- tree and counts


def _conn():
    return Tortoise.get_connection("default")


async def _fetch(sql: str, values: list) -> list:
    """A read in plain SQL ("?" placeholders, numbered for PostgreSQL): the count queries touch every person of an
    org, and building 100,000 ORM rows would cost more than the query itself."""
    conn = _conn()
    if conn.capabilities.dialect == "postgres":
        parts = sql.split("?")
        sql = parts[0] + "".join(f"${i}{part}" for i, part in enumerate(parts[1:], start=1))
    _, rows = await conn.execute_query(sql, values)
    return rows  # sqlite3.Row / asyncpg Record: both unpack like tuples


def _ranges(column: str, cover: list[str]) -> tuple[str, list[str]]:
    sql = " OR ".join(f"({column} >= ? AND {column} < ?)" for _ in cover)
    values = [v for path in cover for v in (path, path[:-1] + "0")]
    return f"({sql})", values


_MEMO_SECONDS = 5.0
_memo: dict[tuple, tuple[float, tuple]] = {}


def invalidate_counts(org_id: int | None = None) -> None:
    """Forget cached count inputs (every contacts write calls this; sync writes age out within seconds)."""
    for key in [k for k in _memo if org_id is None or k[0] == org_id]:
        _memo.pop(key, None)


async def _count_inputs(org_id: int, cover: list[str]) -> tuple[list, list, list]:
    """The covered departments, active people per main department, and other-department memberships.

    One page view asks for the same whole-org numbers several times (tree, sub-department list, detail): they
    are kept for a few seconds, per org and cover.
    """
    conn = _conn()
    database = str(getattr(conn, "filename", "") or getattr(conn, "database", ""))  # one process, several DBs (tests)
    key = (org_id, tuple(sorted(cover)), database)
    hit = _memo.get(key)
    if hit and hit[0] > time.monotonic():
        return hit[1]
    in_cover, cover_values = _ranges("path", cover)
    rows = await _fetch(
        f"SELECT id, path FROM department WHERE org_id = ? AND is_deleted = ? AND {in_cover}",
        [org_id, False, *cover_values],
    )
    whole_org = any(p.count("/") == 2 for p in cover)
    if whole_org:
        per_dept = await _fetch(
            "SELECT main_dept_id, COUNT(*) FROM person WHERE org_id = ? AND is_active = ? GROUP BY main_dept_id",
            [org_id, True],
        )
        others = await _fetch(
            "SELECT pod.department_id, pod.person_id, p.main_dept_id FROM person_other_dept pod "
            "JOIN person p ON p.id = pod.person_id WHERE p.org_id = ? AND p.is_active = ?",
            [org_id, True],
        )
    else:
        d_cover, d_values = _ranges("d.path", cover)
        per_dept = await _fetch(
            "SELECT p.main_dept_id, COUNT(*) FROM person p JOIN department d ON d.id = p.main_dept_id "
            f"WHERE p.org_id = ? AND p.is_active = ? AND {d_cover} GROUP BY p.main_dept_id",
            [org_id, True, *d_values],
        )
        others = await _fetch(
            "SELECT pod.department_id, pod.person_id, p.main_dept_id FROM person_other_dept pod "
            "JOIN department d ON d.id = pod.department_id JOIN person p ON p.id = pod.person_id "
            f"WHERE p.org_id = ? AND p.is_active = ? AND {d_cover}",
            [org_id, True, *d_values],
        )
    result = (list(rows), list(per_dept), list(others))
    if len(_memo) > 64:
        _memo.clear()
    _memo[key] = (time.monotonic() + _MEMO_SECONDS, result)
    return result


async def subtree_counts(org_id: int, targets: dict[int, str], cover: list[str]) -> tuple[dict[int, int], set[int]]:
    """Active people at or below each target node, and which targets have live children.

    ``targets`` maps node id -> path (disjoint subtrees); ``cover`` are paths whose subtrees contain them all.
    Three queries whatever the number of nodes: the covered departments, people per main department, and
    other-department memberships.
    """
    rows, per_dept, others = await _count_inputs(org_id, cover)
    owner: dict[int, int] = {}
    with_children: set[int] = set()
    cover_ids = {c: path_ids(c)[-1] for c in cover}
    for dept_id, path in rows:
        # Plain string slicing instead of parsing every path: the owner is the cover node itself when it is a
        # target, else the cover's child that the path passes through.
        parent = int(path[:-1].rsplit("/", 2)[-2]) if path.count("/") > 2 else None
        if parent is not None and parent in targets:
            with_children.add(parent)
        for c, c_id in cover_ids.items():
            if path.startswith(c):
                if c_id in targets:
                    owner[dept_id] = c_id
                elif len(path) > len(c):
                    child = int(path[len(c) : path.index("/", len(c))])
                    if child in targets:
                        owner[dept_id] = child
                break
    counts: dict[int, int] = defaultdict(int)
    for dept_id, n in per_dept:
        target = owner.get(dept_id)
        if target is not None:
            counts[target] += n
    extra: dict[int, set[int]] = defaultdict(set)
    for dept_id, person_id, main_id in others:
        target = owner.get(dept_id)
        if target is not None and owner.get(main_id) != target:
            extra[target].add(person_id)
    return {t: counts.get(t, 0) + len(extra.get(t, ())) for t in targets}, with_children


async def _children_flags(org_id: int, ids: list[int]) -> set[int]:
    rows = await (
        Department.filter(org_id=org_id, parent_id__in=ids, is_deleted=False).distinct().values_list("parent_id")
    )
    return {int(r[0]) for r in rows}


async def _nodes(org_id: int, depts: list[Department], cover: list[str], with_counts: bool) -> list[DeptNode]:
    if not depts:
        return []
    targets = {d.id: d.path for d in depts}
    if with_counts:
        counts, with_children = await subtree_counts(org_id, targets, cover)
    else:
        counts, with_children = {}, await _children_flags(org_id, list(targets))
    return [
        DeptNode(d.id, d.name, counts.get(d.id) if with_counts else None, d.id in with_children, d.depth, d.parent_id)
        for d in depts
    ]


async def tree_children(
    actor: Actor, org_id: int | None, parent_id: int | None = None, *, with_counts: bool = True
) -> list[DeptNode]:
    """The top of the tree (``parent_id`` None: the org root, or a department admin's own departments) or the
    children of one node, each with its member count and whether it can be expanded."""
    scope = await resolve(actor, org_id)
    if parent_id is None:
        if scope.whole_org:
            roots = await Department.filter(org_id=scope.org_id, parent_id=None, is_deleted=False).order_by("id")
            if len(roots) == 1 and with_counts:
                # Every active person hangs somewhere below the single root: a plain count is enough.
                total = await Person.filter(org_id=scope.org_id, is_active=True).count()
                flags = await _children_flags(scope.org_id, [roots[0].id])
                root = roots[0]
                return [DeptNode(root.id, root.name, total, root.id in flags, root.depth, None)]
        else:
            roots = await Department.filter(
                org_id=scope.org_id, path__in=list(scope.paths or ()), is_deleted=False
            ).order_by("path")
        return await _nodes(scope.org_id, roots, [r.path for r in roots], with_counts)
    parent = await get_dept(scope, parent_id)
    children = (
        await Department.filter(org_id=scope.org_id, parent_id=parent.id, is_deleted=False)
        .order_by("order", "id")
        .limit(TREE_CHILD_LIMIT)
    )
    return await _nodes(scope.org_id, children, [parent.path], with_counts)


_DEPT_SORTS = {"name": "name", "order": "order", "id": "id"}


async def list_children(
    actor: Actor,
    org_id: int | None,
    dept_id: int,
    *,
    page: int = 1,
    size: int = 20,
    sort: str = "order",
    descending: bool = False,
) -> Paged[DeptRow]:
    """下级部门 of one department, one page at a time, with member counts and managers for that page only."""
    scope = await resolve(actor, org_id)
    parent = await get_dept(scope, dept_id)
    query = Department.filter(org_id=scope.org_id, parent_id=parent.id, is_deleted=False)
    total = await query.count()
    offset, limit = page_bounds(page, size)
    key = _DEPT_SORTS.get(sort, "order")
    order = [("-" if descending else "") + key, "id"]
    depts = await query.order_by(*order).offset(offset).limit(limit)
    counts, _ = await subtree_counts(scope.org_id, {d.id: d.path for d in depts}, [parent.path]) if depts else ({}, 0)
    names = await person_names(scope.org_id, [pid for d in depts for pid in d.manager_ids])
    rows = [
        DeptRow(d.id, d.name, counts.get(d.id, 0), "、".join(names.get(i, "") for i in d.manager_ids), d.order)
        for d in depts
    ]
    return Paged(rows, total, max(page, 1), limit)


async def person_names(org_id: int, ids: list[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = await Person.filter(org_id=org_id, id__in=list(set(ids))).values_list("id", "name", "is_active")
    return {int(i): (n if a else f"{n}（无效）") for i, n, a in rows}


async def dept_names(org_id: int, ids: list[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = await Department.filter(org_id=org_id, id__in=list(set(ids)), is_deleted=False).values_list("id", "name")
    return {int(i): str(n) for i, n in rows}


# ---------------------------------------------------------------- reading one department


def _input_of(dept: Department) -> DeptInput:
    return DeptInput(
        name=dept.name,
        parent_id=dept.parent_id,
        manager_ids=list(dept.manager_ids or []),
        admin_ids=list(dept.admin_ids or []),
        create_group=dept.create_group,
        group_owner_id=dept.group_owner_id,
        group_include_sub=dept.group_include_sub,
        hide_mode=str(dept.hide_mode.value if hasattr(dept.hide_mode, "value") else dept.hide_mode),
        hide_person_ids=list(dept.hide_visible_person_ids or []),
        hide_dept_ids=list(dept.hide_visible_dept_ids or []),
        restrict_mode=str(dept.restrict_mode.value if hasattr(dept.restrict_mode, "value") else dept.restrict_mode),
        restrict_person_ids=list(dept.restrict_person_ids or []),
        restrict_dept_ids=list(dept.restrict_dept_ids or []),
    )


async def _member_ids(org_id: int, dept: Department, include_sub: bool) -> Q:
    if include_sub:
        return subtree_range_q(dept.path, "main_dept__path") | subtree_range_q(dept.path, "other_depts__path")
    return Q(main_dept_id=dept.id) | Q(other_depts__id=dept.id)


async def count_members(org_id: int, dept: Department, include_sub: bool) -> int:
    """群人数: active people of the department (and below, when the group includes sub-departments)."""
    if include_sub:
        counts, _ = await subtree_counts(org_id, {dept.id: dept.path}, [dept.path])
        return counts[dept.id]
    main = await Person.filter(org_id=org_id, is_active=True, main_dept_id=dept.id).count()
    extra = await _fetch(
        "SELECT COUNT(*) FROM person_other_dept pod JOIN person p ON p.id = pod.person_id "
        "WHERE pod.department_id = ? AND p.org_id = ? AND p.is_active = ? AND p.main_dept_id <> ?",
        [dept.id, org_id, True, dept.id],
    )
    return main + int(extra[0][0])


async def other_member_ids(org_id: int, dept_id: int, *, active_only: bool = False) -> list[int]:
    """People who have ``dept_id`` among their other departments. Read from the link table itself: the ORM's
    ``other_depts__id`` filter becomes a LEFT JOIN from person that scans every person of the org."""
    rows = await _fetch(
        "SELECT p.id FROM person_other_dept pod JOIN person p ON p.id = pod.person_id "
        f"WHERE pod.department_id = ? AND p.org_id = ?{' AND p.is_active = ?' if active_only else ''} ORDER BY p.id",
        [dept_id, org_id, *([True] if active_only else [])],
    )
    return [int(r[0]) for r in rows]


async def first_member(org_id: int, dept: Department) -> Person | None:
    """The department's first person (main members first, by id): the default 群主 of the department group."""
    person = await Person.filter(org_id=org_id, main_dept_id=dept.id, is_active=True).order_by("id").first()
    if person is None:
        others = await other_member_ids(org_id, dept.id, active_only=True)
        person = await Person.get_or_none(id=others[0]) if others else None
    return person


async def get_department(actor: Actor, org_id: int | None, dept_id: int) -> DeptDetail:
    scope = await resolve(actor, org_id)
    dept = await get_dept(scope, dept_id)
    data = _input_of(dept)
    person_ids = data.manager_ids + data.admin_ids + data.hide_person_ids + data.restrict_person_ids
    if data.group_owner_id:
        person_ids.append(data.group_owner_id)
    dept_ids = data.hide_dept_ids + data.restrict_dept_ids + path_ids(dept.path)
    names = await scoped_names(scope, person_ids, dept_ids)
    chain = [(i, names.get(f"dept:{i}", "")) for i in path_ids(dept.path)]
    parent_name = names.get(f"dept:{dept.parent_id}", "") if dept.parent_id else ""
    owner_name = names.get(f"person:{data.group_owner_id}", "") if data.group_owner_id else ""
    if dept.create_group and not data.group_owner_id:
        first = await first_member(scope.org_id, dept)
        owner_name = first.name if first else ""
    counts, _ = await subtree_counts(scope.org_id, {dept.id: dept.path}, [dept.path])
    member_count = counts[dept.id]
    return DeptDetail(
        id=dept.id,
        name=dept.name,
        parent_id=dept.parent_id,
        parent_name=parent_name,
        path_names=[c for c in chain if scope.covers(_prefix(dept.path, c[0]))],
        is_root=dept.parent_id is None,
        data=data,
        names=names,
        group_name=dept.name,
        group_owner_name=owner_name,
        group_size=await count_members(scope.org_id, dept, dept.group_include_sub),
        member_count=member_count,
        sub_count=await Department.filter(org_id=scope.org_id, parent_id=dept.id, is_deleted=False).count(),
        editable=actor.can(Perm.CONTACTS_EDIT, scope.org_id),
    )


def _prefix(path: str, dept_id: int) -> str:
    marker = f"/{dept_id}/"
    return path[: path.index(marker) + len(marker)]


async def scoped_names(scope: Scope, person_ids: list[int], dept_ids: list[int]) -> dict[str, str]:
    """Display names for ids a form shows; a department admin sees "（不在管理范围）" for what lies outside."""
    names: dict[str, str] = {}
    if person_ids:
        people = await Person.filter(org_id=scope.org_id, id__in=list(set(person_ids))).select_related("main_dept")
        other = await _other_paths(list(set(person_ids)))
        for p in people:
            visible = scope.covers(p.main_dept.path) or any(scope.covers(x) for x in other.get(p.id, []))
            label = p.name if p.is_active else f"{p.name}（无效）"
            names[f"person:{p.id}"] = label if visible else "（不在管理范围）"
    if dept_ids:
        depts = await Department.filter(org_id=scope.org_id, id__in=list(set(dept_ids)), is_deleted=False)
        for d in depts:
            names[f"dept:{d.id}"] = d.name if scope.covers(d.path) else "（不在管理范围）"
    return names


async def _other_paths(person_ids: list[int]) -> dict[int, list[str]]:
    rows = await Department.filter(other_people__id__in=person_ids, is_deleted=False).values_list(
        "other_people__id", "path"
    )
    result: dict[int, list[str]] = defaultdict(list)
    for pid, path in rows:
        result[int(pid)].append(str(path))
    return result


# ---------------------------------------------------------------- validation


def check_name(name: str) -> str:
    name = (name or "").strip()
    if not name:
        raise ValidationFailed("请填写部门名称", field="name")
    if len(name) > NAME_MAX:
        raise ValidationFailed(f"部门名称不能超过 {NAME_MAX} 个字符", field="name")
    bad = [c for c in NAME_FORBIDDEN if c in name]
    if bad:
        raise ValidationFailed("部门名称不能包含 “-”、“,”、“，”", field="name")
    if problem := dingtalk_limits.name_problem(name, "部门名称"):
        raise ValidationFailed(problem, field="name")
    return name


async def _check_people(
    scope: Scope, ids: list[int], before: list[int], field_name: str, label: str, *, active: bool = True
) -> list[int]:
    ids = list(dict.fromkeys(int(i) for i in ids))
    if not ids:
        return []
    people = await Person.filter(org_id=scope.org_id, id__in=ids).select_related("main_dept")
    found = {p.id: p for p in people}
    other = await _other_paths(ids)
    for pid in ids:
        person = found.get(pid)
        if person is None:
            raise ValidationFailed(f"{label}中有人员不存在（{pid}）", field=field_name)
        if active and not person.is_active and pid not in before:
            raise ValidationFailed(f"{label}「{person.name}」已置为无效", field=field_name)
        if pid not in before and not (
            scope.covers(person.main_dept.path) or any(scope.covers(x) for x in other.get(pid, []))
        ):
            raise ValidationFailed(f"{label}「{person.name}」不在您管理的范围内", field=field_name)
    return ids


async def _check_managers_are_members(
    scope: Scope, current: Department | None, ids: list[int], before: list[int]
) -> None:
    """部门主管 must be members of the department (main or other department): DingTalk refuses other managers with
    "不存在的userId". Managers already on the department (e.g. pulled from DingTalk) are not checked again."""
    new = [i for i in ids if i not in before]
    if not new:
        return
    if current is None:
        raise ValidationFailed(
            "新部门还没有人员，请先保存部门并加入人员后，再编辑部门设置部门主管", field="manager_ids"
        )
    where = Q(main_dept_id=current.id) | Q(id__in=await other_member_ids(scope.org_id, current.id))
    members = set(
        await Person.filter(Q(org_id=scope.org_id, is_active=True, id__in=new) & where)
        .distinct()
        .values_list("id", flat=True)
    )
    outsiders = [i for i in new if i not in members]
    if outsiders:
        names = await person_names(scope.org_id, outsiders)
        listed = "」「".join(names.get(i, str(i)) for i in outsiders)
        raise ValidationFailed(
            f"部门主管「{listed}」不是本部门的人员（主部门或其他部门须为本部门）", field="manager_ids"
        )


async def _check_depts(scope: Scope, ids: list[int], before: list[int], field_name: str, label: str) -> list[int]:
    ids = list(dict.fromkeys(int(i) for i in ids))
    if not ids:
        return []
    depts = {d.id: d for d in await Department.filter(org_id=scope.org_id, id__in=ids, is_deleted=False)}
    for did in ids:
        dept = depts.get(did)
        if dept is None:
            if did in before:
                continue
            raise ValidationFailed(f"{label}中有部门不存在或已删除（{did}）", field=field_name)
        if did not in before and not scope.covers(dept.path):
            raise ValidationFailed(f"{label}「{dept.name}」不在您管理的范围内", field=field_name)
    return [i for i in ids if i in depts]


async def _validate(scope: Scope, data: DeptInput, current: Department | None) -> DeptInput:
    old = _input_of(current) if current else DeptInput()
    name = check_name(data.name)
    parent: Department | None = None
    if current is not None and current.parent_id is None:
        if data.parent_id not in (None, current.parent_id):
            raise ValidationFailed("根部门不能修改上级部门", field="parent_id")
    else:
        if data.parent_id is None:
            raise ValidationFailed("请选择上级部门", field="parent_id")
        parent = await Department.get_or_none(id=data.parent_id, org_id=scope.org_id, is_deleted=False)
        if parent is None:
            raise ValidationFailed("上级部门不存在或已删除", field="parent_id")
        moved = current is None or parent.id != current.parent_id
        if moved and not scope.covers(parent.path):
            raise ValidationFailed("上级部门不在您管理的范围内", field="parent_id")
        if current is not None and parent.path.startswith(current.path):
            raise ValidationFailed("不能把部门移动到它自己或它的下级部门之下", field="parent_id")
        siblings = Department.filter(org_id=scope.org_id, parent_id=parent.id, name=name, is_deleted=False)
        if current is not None:
            siblings = siblings.exclude(id=current.id)
        if await siblings.exists():
            raise ValidationFailed(f"上级部门「{parent.name}」下已有名为「{name}」的部门", field="name")
    hide_mode = HideMode(data.hide_mode).value if data.hide_mode in HIDE_MODES else None
    if hide_mode is None:
        raise ValidationFailed("请选择是否隐藏本部门的方式", field="hide_mode")
    restrict_mode = data.restrict_mode if data.restrict_mode in RESTRICT_MODES else None
    if restrict_mode is None:
        raise ValidationFailed("请选择查看限制方式", field="restrict_mode")
    manager_ids = await _check_people(scope, data.manager_ids, old.manager_ids, "manager_ids", "部门主管")
    await _check_managers_are_members(scope, current, manager_ids, old.manager_ids)
    clean = DeptInput(
        name=name,
        parent_id=parent.id if parent else None,
        manager_ids=manager_ids,
        admin_ids=await _check_people(scope, data.admin_ids, old.admin_ids, "admin_ids", "部门管理员"),
        create_group=bool(data.create_group),
        group_include_sub=bool(data.group_include_sub) if data.create_group else False,
        hide_mode=hide_mode,
        restrict_mode=restrict_mode,
    )
    if clean.admin_ids:
        rows = await Person.filter(id__in=clean.admin_ids).values_list("id", "name", "login_name", "mobile")
        for _pid, pname, login_name, mobile in rows:
            if not (login_name or mobile):
                raise ValidationFailed(
                    f"部门管理员「{pname}」没有登录账号或手机号，无法开通管理账号", field="admin_ids"
                )
    if hide_mode == HideMode.SOME.value:
        clean.hide_person_ids = await _check_people(
            scope, data.hide_person_ids, old.hide_person_ids, "hide_person_ids", "隐藏后可见人员", active=False
        )
        clean.hide_dept_ids = await _check_depts(
            scope, data.hide_dept_ids, old.hide_dept_ids, "hide_dept_ids", "隐藏后可见部门"
        )
        if not clean.hide_person_ids and not clean.hide_dept_ids:
            raise ValidationFailed("请选择隐藏后可见的人员或部门", field="hide_person_ids")
        if len(clean.hide_person_ids) + len(clean.hide_dept_ids) > PERMIT_LIMIT:
            raise ValidationFailed(f"隐藏后可见人员和部门合计不能超过 {PERMIT_LIMIT} 个", field="hide_person_ids")
    if restrict_mode == RestrictMode.SOME.value:
        clean.restrict_person_ids = await _check_people(
            scope,
            data.restrict_person_ids,
            old.restrict_person_ids,
            "restrict_person_ids",
            "自身可见人员",
            active=False,
        )
        clean.restrict_dept_ids = await _check_depts(
            scope, data.restrict_dept_ids, old.restrict_dept_ids, "restrict_dept_ids", "自身可见部门"
        )
        if not clean.restrict_person_ids and not clean.restrict_dept_ids:
            raise ValidationFailed("请选择自身可见的人员或部门", field="restrict_person_ids")
        if len(clean.restrict_person_ids) + len(clean.restrict_dept_ids) > PERMIT_LIMIT:
            raise ValidationFailed(f"自身可见人员和部门合计不能超过 {PERMIT_LIMIT} 个", field="restrict_person_ids")
    if clean.create_group and data.group_owner_id:
        if current is None:
            raise ValidationFailed("新部门还没有人员，群主默认为部门中的第一个人员", field="group_owner_id")
        members = await count_members_by_id(scope.org_id, current, data.group_owner_id, clean.group_include_sub)
        if not members:
            raise ValidationFailed("群主必须是本部门的有效人员", field="group_owner_id")
        clean.group_owner_id = int(data.group_owner_id)
    return clean


async def count_members_by_id(org_id: int, dept: Department, person_id: int, include_sub: bool) -> bool:
    where = await _member_ids(org_id, dept, include_sub)
    return await Person.filter(Q(org_id=org_id, is_active=True, id=person_id) & where).exists()


# ---------------------------------------------------------------- writes


def snapshot(dept: Department) -> dict:
    values = asdict(_input_of(dept))
    values["is_deleted"] = dept.is_deleted
    return values


def _apply(dept: Department, data: DeptInput) -> None:
    dept.name = data.name
    dept.manager_ids = data.manager_ids
    dept.admin_ids = data.admin_ids
    dept.create_group = data.create_group
    dept.group_owner_id = data.group_owner_id if data.create_group else None
    dept.group_include_sub = data.group_include_sub
    dept.hide_mode = HideMode(data.hide_mode)
    dept.hide_visible_person_ids = data.hide_person_ids
    dept.hide_visible_dept_ids = data.hide_dept_ids
    dept.restrict_mode = RestrictMode(data.restrict_mode)
    dept.restrict_person_ids = data.restrict_person_ids
    dept.restrict_dept_ids = data.restrict_dept_ids


async def create_department(actor: Actor, org_id: int | None, data: DeptInput) -> int:
    scope = await resolve(actor, org_id, Perm.CONTACTS_EDIT)
    clean = await _validate(scope, data, None)
    async with write(actor, scope=scope, kind="department") as w:
        parent = await Department.get(id=clean.parent_id)
        last = await Department.filter(org_id=scope.org_id, parent_id=parent.id).order_by("-order").first()
        dept = await _insert_department(
            org_id=scope.org_id, parent=parent, name=clean.name, order=(last.order + 1) if last else 0
        )
        _apply(dept, clean)
        w.push(dept)
        w.feed(dept)
        await dept.save()
        await w.audit("contacts.dept.create", object_id=dept.id, object_name=dept.name, after=snapshot(dept))
        w.after_commit(lambda: _sync_admin_grants(actor, scope, dept.id, added=clean.admin_ids, removed=[]))
        w.after_commit(lambda: invalidate_counts(scope.org_id))
        w.contacts_changed(scope.org_id, "contacts.dept.create", {"dept_ids": [dept.id]})
    return dept.id


async def update_department(actor: Actor, org_id: int | None, dept_id: int, data: DeptInput) -> None:
    scope = await resolve(actor, org_id, Perm.CONTACTS_EDIT)
    dept = await get_dept(scope, dept_id)
    clean = await _validate(scope, data, dept)
    old_admins = list(dept.admin_ids or [])
    moved = clean.parent_id is not None and clean.parent_id != dept.parent_id
    action = "contacts.dept.move" if moved else "contacts.dept.update"
    async with write(actor, scope=scope, target=dept, snapshot=snapshot, kind="department") as w:
        if moved:
            await move_subtree(dept, await Department.get(id=clean.parent_id))
        _apply(dept, clean)
        if w.unchanged:
            return
        w.push(dept)
        await dept.save()
        await w.audit(action)
        added = [i for i in clean.admin_ids if i not in old_admins]
        removed = [i for i in old_admins if i not in clean.admin_ids]
        w.after_commit(lambda: _sync_admin_grants(actor, scope, dept.id, added=added, removed=removed))
        w.after_commit(lambda: invalidate_counts(scope.org_id))
        w.contacts_changed(scope.org_id, action, {"dept_ids": [dept.id]})


_ROLE_LABELS = (("manager_ids", "部门主管"), ("admin_ids", "部门管理员"), ("group_owner_id", "群主"))


async def _strip_roles(
    w: Write, scope: Scope, removals: dict[int, dict[str, set[int]]], names: dict[int, str], why: dict[int, str]
) -> list[int]:
    """Take people off department roles: ``removals`` maps dept id -> role attribute -> person ids to remove, ``why``
    dept id -> the reason the audit line gives. Each changed department is marked for push and audited."""
    changed: list[int] = []
    for dept in await Department.filter(id__in=list(removals)).order_by("id"):
        before = snapshot(dept)
        removed: set[int] = set()
        roles: list[str] = []
        for attr, label in _ROLE_LABELS:
            gone = removals[dept.id].get(attr, set())
            if attr == "group_owner_id":
                hit = {dept.group_owner_id} & gone
                if hit:
                    dept.group_owner_id = None  # the department's first person becomes the default owner again
            else:
                ids = [int(i) for i in getattr(dept, attr) or []]
                hit = gone & set(ids)
                if hit:
                    setattr(dept, attr, [i for i in ids if i not in hit])
            if hit:
                removed |= hit
                roles.append(label)
        if not removed:
            continue
        w.push(dept)
        await dept.save(update_fields=["manager_ids", "admin_ids", "group_owner_id", "needs_push", "updated_at"])
        who = "".join(f"「{names[i]}」" for i in sorted(removed))
        await w.audit(
            "contacts.dept.update",
            org_id=scope.org_id,
            org_name=scope.org_name,
            object_type="department",
            object_id=dept.id,
            object_name=dept.name,
            before=before,
            after=snapshot(dept),
            detail=f"{who}{why[dept.id]}，已从{'、'.join(roles)}中移除",
        )
        changed.append(dept.id)
    return changed


async def drop_people_from_roles(w: Write, scope: Scope, people: dict[int, str]) -> list[int]:
    """People set invalid leave every 部门主管 and 部门管理员 list and stop being 群主 (DingTalk refuses managers who
    are not members). Call inside the disabling transaction; ``people`` maps person id -> name for the audit line.
    Returns the ids of the departments changed."""
    if not people:
        return []
    gone = set(people)
    rows = await Department.filter(org_id=scope.org_id, is_deleted=False).values_list(
        "id", "manager_ids", "admin_ids", "group_owner_id"
    )
    removals = {
        int(dept_id): {
            "manager_ids": gone & {int(i) for i in managers or []},
            "admin_ids": gone & {int(i) for i in admins or []},
            "group_owner_id": gone & ({int(owner)} if owner is not None else set()),
        }
        for dept_id, managers, admins, owner in rows
    }
    hit = {dept_id: roles for dept_id, roles in removals.items() if any(roles.values())}
    return await _strip_roles(w, scope, hit, people, dict.fromkeys(hit, "置为无效"))


async def drop_leavers_from_roles(
    w: Write, scope: Scope, left: dict[int, list[int]], names: dict[int, str], cause: str
) -> list[int]:
    """Valid people who stopped being direct members of some departments (``left``: person id -> the departments
    that are no longer their main or other department) stop being 部门主管 and 群主 there, because DingTalk refuses
    managers and owners who are not members ("不存在的userId"). A group that includes sub-departments keeps its
    owner while they are still a member somewhere below. 部门管理员 is a LanDing admin role, not membership: it
    stays. Call inside the transaction that changed the membership, after the change; ``cause`` says why in the
    audit line. Returns the ids of the departments changed."""
    left = {pid: ids for pid, ids in left.items() if ids}
    if not left:
        return []
    paths = {d.id: d.path for d in await Department.filter(id__in=[i for ids in left.values() for i in ids])}
    # A department left, or an ancestor of one (its group may include sub-departments).
    candidates = {a for ids in left.values() for i in ids if i in paths for a in path_ids(paths[i])}
    depts = await Department.filter(id__in=list(candidates), is_deleted=False)
    mains = dict(await Person.filter(id__in=list(left)).values_list("id", "main_dept__path"))
    member_paths = await _other_paths(list(left))
    removals: dict[int, dict[str, set[int]]] = defaultdict(lambda: defaultdict(set))
    why: dict[int, str] = {}
    for pid, gone in left.items():
        now = [str(mains[pid]), *member_paths.get(pid, [])]
        for dept in depts:
            direct = dept.id in gone
            manager = direct and pid in (dept.manager_ids or [])
            still_in_group = dept.group_include_sub and any(p.startswith(dept.path) for p in now)
            owner = dept.group_owner_id == pid and (direct or dept.group_include_sub) and not still_in_group
            if manager:
                removals[dept.id]["manager_ids"].add(pid)
            if owner:
                removals[dept.id]["group_owner_id"].add(pid)
            if (manager or owner) and (direct or dept.id not in why):
                why[dept.id] = f"不再是本部门{'' if direct else '及下级部门'}的人员（{cause}）"
    return await _strip_roles(w, scope, dict(removals), names, why)


async def _sync_admin_grants(actor: Actor, scope: Scope, dept_id: int, *, added: list[int], removed: list[int]) -> None:
    """部门管理员 -> a dept_admin role grant scoped to their departments (login = login account, else mobile)."""
    if not added and not removed:
        return
    org = await Org.get(id=scope.org_id)
    for person in await Person.filter(id__in=added):
        login = person.login_name or person.mobile
        if not login:
            continue
        grant = await RoleGrant.filter(role=Role.DEPT_ADMIN, org_id=org.id, account__login=login).first()
        dept_ids = sorted(set(grant.dept_ids if grant else []) | {dept_id})
        await accounts.grant_role(
            actor, login=login, display_name=person.name, role=Role.DEPT_ADMIN, org=org, person_id=person.id,
            dept_ids=dept_ids,
        )  # fmt: skip
    if removed:
        await _drop_from_grants(actor, org, dept_id, person_ids=removed)


async def _drop_from_grants(actor: Actor, org: Org, dept_id: int, *, person_ids: list[int] | None = None) -> None:
    query = RoleGrant.filter(role=Role.DEPT_ADMIN, org_id=org.id)
    if person_ids is not None:
        query = query.filter(person_id__in=person_ids)
    for grant in await query.select_related("account"):
        if dept_id not in (grant.dept_ids or []):
            continue
        remaining = [i for i in grant.dept_ids if i != dept_id]
        if remaining:
            await accounts.grant_role(
                actor, login=grant.account.login, display_name=grant.account.display_name, role=Role.DEPT_ADMIN,
                org=org, person_id=grant.person_id, dept_ids=remaining,
            )  # fmt: skip
        else:
            await accounts.revoke_role(actor, account_id=grant.account_id, role=Role.DEPT_ADMIN, org=org)


async def active_people_below(org_id: int, dept: Department) -> int:
    where = subtree_range_q(dept.path, "main_dept__path") | subtree_range_q(dept.path, "other_depts__path")
    return await Person.filter(Q(org_id=org_id, is_active=True) & where).distinct().count()


async def _delete_refusal(scope: Scope, dept: Department, batch: set[int]) -> str | None:
    if dept.parent_id is None:
        return f"「{dept.name}」是根部门，不能删除"
    people = await active_people_below(scope.org_id, dept)
    if people:
        return f"「{dept.name}」及其下级部门还有 {people} 名人员，请先移走或删除人员后再删除部门"
    subs = await Department.filter(org_id=scope.org_id, parent_id=dept.id, is_deleted=False).exclude(
        id__in=list(batch)
    ).count()  # fmt: skip
    if subs:
        return f"「{dept.name}」还有 {subs} 个下级部门，请先删除下级部门"
    return None


async def delete_departments(actor: Actor, org_id: int | None, dept_ids: list[int]) -> int:
    """Delete empty departments (tombstones that the push deletes in DingTalk). All or nothing."""
    scope = await resolve(actor, org_id, Perm.CONTACTS_EDIT)
    ids = list(dict.fromkeys(int(i) for i in dept_ids))
    if not ids:
        raise ValidationFailed("请选择要删除的部门")
    depts = [await get_dept(scope, i) for i in ids]
    for dept in depts:
        reason = await _delete_refusal(scope, dept, set(ids))
        if reason:
            raise ValidationFailed(reason, field="delete")
    org = await Org.get(id=scope.org_id)
    async with write(actor, scope=scope, kind="department") as w:
        for dept in depts:
            before = snapshot(dept)
            dept.is_deleted = True
            w.push(dept)
            w.feed(dept)
            await dept.save(update_fields=["is_deleted", "needs_push", "feed_time", "updated_at"])
            await w.audit(
                "contacts.dept.delete",
                object_id=dept.id,
                object_name=dept.name,
                before=before,
                after={"is_deleted": True},
            )
        w.after_commit(lambda: _drop_all_from_grants(actor, org, depts))
        w.after_commit(lambda: invalidate_counts(scope.org_id))
        w.contacts_changed(scope.org_id, "contacts.dept.delete", {"dept_ids": ids})
    return len(depts)


async def _drop_all_from_grants(actor: Actor, org: Org, depts: list[Department]) -> None:
    for dept in depts:
        await _drop_from_grants(actor, org, dept.id)


async def delete_department(actor: Actor, org_id: int | None, dept_id: int) -> None:
    await delete_departments(actor, org_id, [dept_id])


async def delete_preview(actor: Actor, org_id: int | None, dept_ids: list[int]) -> str | None:
    """What the confirmation dialog says: None when deleting is possible, else the reason it is refused."""
    scope = await resolve(actor, org_id, Perm.CONTACTS_EDIT)
    for dept_id in dept_ids:
        try:
            dept = await get_dept(scope, dept_id)
        except (NotFound, PermissionDenied) as exc:
            return exc.message
        reason = await _delete_refusal(scope, dept, set(dept_ids))
        if reason:
            return reason
    return None
