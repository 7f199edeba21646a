"""Departments (guide 3.3.5.2-3.3.5.4, 3.3.5.8): the lazy tree with member counts, the department's page, and
create / edit (which moves a subtree when the parent changes) / delete.

The form's shape is in ``dept_form``, its rules in ``dept_rules``, the counts in ``counts`` and what follows a
change of 部门管理员 in ``roles``. Every write goes through ``app.services.write``.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.models.contacts import Department, Person
from app.models.orgs import Org
from app.models.tree import create_department as _insert_department
from app.models.tree import move_subtree, path_ids
from app.services.contacts import dept_rules, roles
from app.services.contacts.counts import (
    active_people_below,
    count_members,
    first_member,
    invalidate_counts,
    subtree_counts,
)
from app.services.contacts.dept_form import DeptDetail, DeptInput, apply_input, input_of, snapshot
from app.services.contacts.names import person_names, scoped_names
from app.services.contacts.scope import Paged, Scope, get_dept, page_bounds, resolve
from app.services.errors import NotFound, PermissionDenied, ValidationFailed
from app.services.permissions import Actor, Perm
from app.services.write import write

TREE_CHILD_LIMIT = 300  # the tree lists this many children; the paged list on the right shows all


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


_DEPT_SORTS = {"name": "name_sort", "order": "order", "id": "id"}  # names by pinyin


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


async def get_department(actor: Actor, org_id: int | None, dept_id: int) -> DeptDetail:
    scope = await resolve(actor, org_id)
    dept = await get_dept(scope, dept_id)
    data = input_of(dept)
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


async def create_department(actor: Actor, org_id: int | None, data: DeptInput) -> int:
    scope = await resolve(actor, org_id, Perm.CONTACTS_EDIT)
    clean = await dept_rules.validate(scope, data, None)
    async with write(actor, scope=scope, kind="department") as w:
        parent = await Department.get(id=clean.parent_id)
        last = await Department.filter(org_id=scope.org_id, parent_id=parent.id).order_by("-order").first()
        dept = await _insert_department(
            org_id=scope.org_id, parent=parent, name=clean.name, order=(last.order + 1) if last else 0
        )
        apply_input(dept, clean)
        w.push(dept)
        w.feed(dept)
        await dept.save()
        await w.audit("contacts.dept.create", object_id=dept.id, object_name=dept.name, after=snapshot(dept))
        w.after_commit(lambda: roles.sync_admin_grants(actor, scope, dept.id, added=clean.admin_ids, removed=[]))
        w.after_commit(lambda: invalidate_counts(scope.org_id))
        w.contacts_changed(scope.org_id, "contacts.dept.create", {"dept_ids": [dept.id]})
    return dept.id


async def update_department(actor: Actor, org_id: int | None, dept_id: int, data: DeptInput) -> None:
    scope = await resolve(actor, org_id, Perm.CONTACTS_EDIT)
    dept = await get_dept(scope, dept_id)
    clean = await dept_rules.validate(scope, data, dept)
    old_admins = list(dept.admin_ids or [])
    moved = clean.parent_id is not None and clean.parent_id != dept.parent_id
    action = "contacts.dept.move" if moved else "contacts.dept.update"
    async with write(actor, scope=scope, target=dept, snapshot=snapshot, kind="department") as w:
        if moved:
            await move_subtree(dept, await Department.get(id=clean.parent_id))
        apply_input(dept, clean)
        if w.unchanged:
            return
        w.push(dept)
        await dept.save()
        await w.audit(action)
        added = [i for i in clean.admin_ids if i not in old_admins]
        removed = [i for i in old_admins if i not in clean.admin_ids]
        w.after_commit(lambda: roles.sync_admin_grants(actor, scope, dept.id, added=added, removed=removed))
        w.after_commit(lambda: invalidate_counts(scope.org_id))
        w.contacts_changed(scope.org_id, action, {"dept_ids": [dept.id]})


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
        await roles.drop_from_grants(actor, org, dept.id)


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
