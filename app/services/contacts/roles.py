"""Membership and roles: 部门主管, 部门管理员 and 群主 follow who is a member, and 部门管理员 is a login role.

DingTalk refuses managers and group owners who are not members ("不存在的userId"), so people set invalid leave every
role list, and valid people who stop being members of a department leave its 部门主管 list and 群主 place. A
部门管理员 holds a dept_admin role grant scoped to their departments; it follows the department's list and goes
when the person is set invalid.
"""

from __future__ import annotations

from collections import defaultdict

from app.models.accounts import Role, RoleGrant
from app.models.contacts import Department, Person
from app.models.orgs import Org
from app.models.tree import path_ids
from app.services import accounts
from app.services.contacts.dept_form import snapshot
from app.services.contacts.names import other_paths
from app.services.contacts.scope import Scope
from app.services.permissions import Actor
from app.services.write import Write

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
    member_paths = await other_paths(list(left))
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


async def sync_admin_grants(actor: Actor, scope: Scope, dept_id: int, *, added: list[int], removed: list[int]) -> None:
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
        await drop_from_grants(actor, org, dept_id, person_ids=removed)


async def drop_from_grants(actor: Actor, org: Org, dept_id: int, *, person_ids: list[int] | None = None) -> None:
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


async def revoke_dept_admin(actor: Actor, org_id: int, person_ids: list[int]) -> None:
    """An invalid person keeps no admin power: their department-admin grant goes with them."""
    grants = await RoleGrant.filter(role=Role.DEPT_ADMIN, org_id=org_id, person_id__in=person_ids)
    if grants:
        org = await Org.get(id=org_id)
        for grant in grants:
            await accounts.revoke_role(actor, account_id=grant.account_id, role=Role.DEPT_ADMIN, org=org)
