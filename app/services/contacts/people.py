"""People (guide 3.3.5.5-3.3.5.8): the paged member list of a department, the person's page, create/edit,
加入现有人员, delete, 恢复有效.

Deleting a person never removes the row: it is set invalid (置为无效, ``is_active=False``) so the push can remove
them from DingTalk and the mapping feed keeps their ids. Batch delete in a department disables the people whose
main department it is and only removes it from the other departments of the rest. What follows for their roles is in
``roles``; the form's fields and rules are in ``person_form``. Every write goes through ``app.services.write``.
"""

from __future__ import annotations

from dataclasses import dataclass

from tortoise.expressions import Q

from app.models.contacts import Department, Person
from app.services.contacts import person_form, roles
from app.services.contacts.counts import invalidate_counts, other_member_ids
from app.services.contacts.person_form import MAX_DEPTS, PersonDetail, PersonInput, PersonRow, input_of, snapshot
from app.services.contacts.scope import Paged, get_dept, get_person, page_bounds, resolve
from app.services.errors import ValidationFailed
from app.services.permissions import Actor, Perm
from app.services.write import Write, write

_SORTS = {
    "name": "name_sort",
    "mobile": "mobile",
    "login_name": "login_name",
    "title": "title",
    "job_number": "job_number",
}


async def list_members(
    actor: Actor,
    org_id: int | None,
    dept_id: int,
    *,
    page: int = 1,
    size: int = 20,
    sort: str = "name",
    descending: bool = False,
    include_inactive: bool = False,
) -> Paged[PersonRow]:
    """People whose main or other department is ``dept_id`` (direct members, like DingTalk), one page at a time."""
    scope = await resolve(actor, org_id)
    dept = await get_dept(scope, dept_id)
    others = await other_member_ids(scope.org_id, dept.id)
    where = Q(main_dept_id=dept.id) | Q(id__in=others) if others else Q(main_dept_id=dept.id)
    query = Person.filter(Q(org_id=scope.org_id) & where)
    if not include_inactive:
        query = query.filter(is_active=True)
    total = await query.count()
    offset, limit = page_bounds(page, size)
    key = _SORTS.get(sort, "name_sort")  # names by pinyin (app/core/pinyin.py), in the database
    people = (
        await query.order_by(("-" if descending else "") + key, "id")
        .offset(offset)
        .limit(limit)
        .select_related("main_dept")
    )
    return Paged([_row(p, dept.id) for p in people], total, max(page, 1), limit)


def _row(p: Person, dept_id: int | None = None) -> PersonRow:
    return PersonRow(
        id=p.id,
        name=p.name,
        avatar_url=p.avatar_url,
        mobile=p.mobile or "",
        login_name=p.login_name or "",
        main_dept_id=p.main_dept_id,
        main_dept_name=p.main_dept.name,
        is_main=dept_id is None or p.main_dept_id == dept_id,
        title=p.title,
        job_number=p.job_number,
        email=p.email,
        is_active=p.is_active,
    )


async def get_person_detail(actor: Actor, org_id: int | None, person_id: int) -> PersonDetail:
    scope = await resolve(actor, org_id)
    person, others = await get_person(scope, person_id)
    visible_others = [i for i, p in others if scope.covers(p)]
    names = {person.main_dept_id: person.main_dept.name if scope.covers(person.main_dept.path) else "（不在管理范围）"}
    if visible_others:
        for d in await Department.filter(id__in=visible_others):
            names[d.id] = d.name
    return PersonDetail(
        id=person.id,
        data=input_of(person, visible_others),
        is_active=person.is_active,
        main_dept_name=names[person.main_dept_id],
        dept_names=names,
        hidden_other_depts=len(others) - len(visible_others),
        ding_userid=person.ding_userid or "",
        editable=actor.can(Perm.CONTACTS_EDIT, scope.org_id),
        conflicts=dict(person.sync_conflicts or {}) if person.ding_userid else {},
    )


async def _set_other_depts(w: Write, person: Person, old: list[int], new: list[int]) -> None:
    removed = [i for i in old if i not in new]
    added = [i for i in new if i not in old]
    if removed:
        await person.other_depts.remove(*await Department.filter(id__in=removed))
    if added:
        await person.other_depts.add(*await Department.filter(id__in=added))


async def create_person(actor: Actor, org_id: int | None, data: PersonInput) -> int:
    scope = await resolve(actor, org_id, Perm.CONTACTS_EDIT)
    clean = await person_form.validate(scope, data, None, [])
    async with write(actor, scope=scope, kind="person") as w:
        person = Person(org_id=scope.org_id)
        person_form.apply_input(person, clean)
        w.push(person)
        w.feed(person)
        await person.save()
        await _set_other_depts(w, person, [], clean.other_dept_ids)
        after = snapshot(person, clean.other_dept_ids)
        await w.audit("contacts.person.create", object_id=person.id, object_name=person.name, after=after)
        w.after_commit(lambda: invalidate_counts(scope.org_id))
        w.contacts_changed(scope.org_id, "contacts.person.create", {"person_ids": [person.id]})
    return person.id


async def update_person(actor: Actor, org_id: int | None, person_id: int, data: PersonInput) -> None:
    scope = await resolve(actor, org_id, Perm.CONTACTS_EDIT)
    person, others = await get_person(scope, person_id)
    old_other_ids = [i for i, _ in others]
    clean = await person_form.validate(scope, data, person, others)
    before = snapshot(person, old_other_ids)
    mapping_changed = (person.login_name or "") != clean.login_name or (person.mobile or "") != clean.mobile
    async with write(actor, scope=scope, kind="person") as w:
        person_form.apply_input(person, clean)
        after = snapshot(person, clean.other_dept_ids)
        if after == before:
            return
        w.push(person)
        if mapping_changed:
            w.feed(person)
        await person.save()
        await _set_other_depts(w, person, old_other_ids, clean.other_dept_ids)
        await w.audit(
            "contacts.person.update", object_id=person.id, object_name=person.name, before=before, after=after
        )
        if person.is_active:
            # An invalid person holds no roles any more (dropped when set invalid) and DingTalk no longer has them.
            now = {clean.main_dept_id, *clean.other_dept_ids}
            left = [i for i in dict.fromkeys([before["main_dept_id"], *old_other_ids]) if i not in now]
            await roles.drop_leavers_from_roles(
                w, scope, {person.id: left}, {person.id: person.name}, "编辑人员时修改了主部门或其他部门"
            )
        w.after_commit(lambda: invalidate_counts(scope.org_id))
        w.contacts_changed(scope.org_id, "contacts.person.update", {"person_ids": [person.id]})


async def _set_active(w: Write, person: Person, other_ids: list[int], active: bool) -> None:
    """置为无效 / 恢复有效: the flag, the push and feed marks, and the audit line with the person before."""
    before = snapshot(person, other_ids)
    person.is_active = active
    w.push(person)
    w.feed(person)
    await person.save(update_fields=["is_active", "needs_push", "feed_time", "updated_at"])
    await w.audit(
        "contacts.person.restore" if active else "contacts.person.disable",
        object_id=person.id,
        object_name=person.name,
        before=before,
        after={"is_active": active},
    )


async def disable_person(actor: Actor, org_id: int | None, person_id: int) -> None:
    """删除人员 from the person's page: 置为无效."""
    scope = await resolve(actor, org_id, Perm.CONTACTS_EDIT)
    person, others = await get_person(scope, person_id)
    if not person.is_active:
        raise ValidationFailed(f"「{person.name}」已是无效人员")
    async with write(actor, scope=scope, kind="person") as w:
        await _set_active(w, person, [i for i, _ in others], False)
        await roles.drop_people_from_roles(w, scope, {person.id: person.name})
        w.after_commit(lambda: roles.revoke_dept_admin(actor, scope.org_id, [person.id]))
        w.after_commit(lambda: invalidate_counts(scope.org_id))
        w.contacts_changed(scope.org_id, "contacts.person.disable", {"person_ids": [person.id]})


async def restore_person(actor: Actor, org_id: int | None, person_id: int) -> None:
    """恢复有效: an invalid person becomes valid again and the next push brings them back to DingTalk.

    Their former 部门主管 / 部门管理员 places and admin grant were dropped when they were set invalid and stay
    dropped: an admin gives them back on purpose."""
    scope = await resolve(actor, org_id, Perm.CONTACTS_EDIT)
    person, others = await get_person(scope, person_id)
    if person.is_active:
        raise ValidationFailed(f"「{person.name}」已是有效人员")
    async with write(actor, scope=scope, kind="person") as w:
        refusal = await person_form.restore_refusal(scope.org_id, person)
        if refusal:
            raise refusal
        await _set_active(w, person, [i for i, _ in others], True)
        w.after_commit(lambda: invalidate_counts(scope.org_id))
        w.contacts_changed(scope.org_id, "contacts.person.restore", {"person_ids": [person.id]})


@dataclass
class BatchPlan:
    disable: list[int]  # main department here: set invalid
    remove: list[int]  # other department here: only drop this department

    @property
    def text(self) -> str:
        parts = []
        if self.disable:
            parts.append(f"{len(self.disable)} 名以本部门为主部门的人员将被置为无效")
        if self.remove:
            parts.append(f"{len(self.remove)} 名人员将从其他部门中移除本部门")
        return "；".join(parts)


async def batch_plan(actor: Actor, org_id: int | None, dept_id: int, person_ids: list[int]) -> BatchPlan:
    scope = await resolve(actor, org_id, Perm.CONTACTS_EDIT)
    dept = await get_dept(scope, dept_id)
    ids = list(dict.fromkeys(int(i) for i in person_ids))
    main = set(
        await Person.filter(org_id=scope.org_id, id__in=ids, main_dept_id=dept.id, is_active=True).values_list(
            "id", flat=True
        )
    )
    other = set(await other_member_ids(scope.org_id, dept.id)) & set(ids)
    return BatchPlan([i for i in ids if i in main], [i for i in ids if i in other and i not in main])


async def batch_delete(actor: Actor, org_id: int | None, dept_id: int, person_ids: list[int]) -> BatchPlan:
    """批量删除 in one department's list (guide 3.3.5.8)."""
    plan = await batch_plan(actor, org_id, dept_id, person_ids)
    if not plan.disable and not plan.remove:
        raise ValidationFailed("请选择本部门中的有效人员")
    scope = await resolve(actor, org_id, Perm.CONTACTS_EDIT)
    dept = await get_dept(scope, dept_id)
    async with write(actor, scope=scope, kind="person") as w:
        disabled: dict[int, str] = {}
        for person in await Person.filter(id__in=plan.disable):
            others = await Department.filter(other_people__id=person.id).values_list("id", flat=True)
            await _set_active(w, person, list(others), False)
            disabled[person.id] = person.name
        await roles.drop_people_from_roles(w, scope, disabled)
        removed: dict[int, str] = {}
        for person in await Person.filter(id__in=plan.remove):
            others = list(await Department.filter(other_people__id=person.id).values_list("id", flat=True))
            await _other_dept(w, person, others, dept, join=False)
            removed[person.id] = person.name
        await roles.drop_leavers_from_roles(
            w, scope, dict.fromkeys(removed, [dept.id]), removed, f"已从其他部门「{dept.name}」中移除"
        )
        if plan.disable:
            w.after_commit(lambda: roles.revoke_dept_admin(actor, scope.org_id, plan.disable))
        w.after_commit(lambda: invalidate_counts(scope.org_id))
        w.contacts_changed(
            scope.org_id, "contacts.person.batch_delete", {"disabled": plan.disable, "removed": plan.remove}
        )
    return plan


async def add_existing(actor: Actor, org_id: int | None, dept_id: int, person_ids: list[int]) -> int:
    """加入现有人员: the chosen people get this department as an other department. Returns how many were added."""
    scope = await resolve(actor, org_id, Perm.CONTACTS_EDIT)
    dept = await get_dept(scope, dept_id)
    added = 0
    async with write(actor, scope=scope, kind="person") as w:
        for pid in dict.fromkeys(int(i) for i in person_ids):
            person, others = await get_person(scope, pid)
            other_ids = [i for i, _ in others]
            if not person.is_active:
                raise ValidationFailed(f"「{person.name}」是无效人员，不能加入部门")
            if person.main_dept_id == dept.id or dept.id in other_ids:
                continue
            if 2 + len(other_ids) > MAX_DEPTS:
                raise ValidationFailed(f"「{person.name}」已属于 {MAX_DEPTS} 个部门，不能再加入")
            await _other_dept(w, person, other_ids, dept, join=True)
            added += 1
        if added:
            w.after_commit(lambda: invalidate_counts(scope.org_id))
        w.contacts_changed(scope.org_id, "contacts.person.add_dept", {"dept_ids": [dept.id]})
    return added


async def _other_dept(w: Write, person: Person, other_ids: list[int], dept: Department, *, join: bool) -> None:
    """加入 / 移出 one other department: the link, the push mark and the audit line with the person before."""
    before = snapshot(person, other_ids)
    if join:
        await person.other_depts.add(dept)
        action, after, detail = "contacts.person.add_dept", sorted([*other_ids, dept.id]), f"加入部门「{dept.name}」"
    else:
        await person.other_depts.remove(dept)
        action, after = "contacts.person.remove_dept", [i for i in other_ids if i != dept.id]
        detail = f"从其他部门中移除「{dept.name}」"
    w.push(person)
    await person.save(update_fields=["needs_push", "updated_at"])
    await w.audit(
        action,
        object_id=person.id,
        object_name=person.name,
        before=before,
        after={"other_dept_ids": after},
        detail=detail,
    )
