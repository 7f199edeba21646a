"""People (guide 3.3.5.5-3.3.5.8): the paged member list of a department, create/edit, 加入现有人员, delete.

Deleting a person never removes the row: it is set invalid (置为无效, ``is_active=False``) so the push can remove
them from DingTalk and the mapping feed keeps their ids. Batch delete in a department disables the people whose
main department it is and only removes it from the other departments of the rest. A person set invalid leaves every
部门主管 / 部门管理员 list and 群主 place; 恢复有效 (``restore_person``) makes them valid again. A valid person who
stops being a member of a department (batch delete from an other department, an edit) leaves its 部门主管 list and
群主 place, as DingTalk refuses managers and owners who are not members.

Field rules follow DingTalk (dingtalk-api.md section 3): mobile unique in the org, "+86-13800000000" and
"13800000000" being one number (mainland 11 digits or "+xx-xxxx"), at most 100 departments per person, email/job
number at most 50 characters.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field

from tortoise.expressions import Q

from app.core import dingtalk_limits
from app.core.mobiles import MobileInvalid, mobile_forms, normalise_mobile
from app.models.accounts import Role, RoleGrant
from app.models.contacts import Department, Person
from app.models.orgs import Org
from app.services import accounts, departments
from app.services.contacts_scope import Paged, Scope, get_dept, get_person, page_bounds, resolve
from app.services.errors import ValidationFailed
from app.services.permissions import Actor, Perm
from app.services.write import Write, write

NAME_MAX = 64
MAX_DEPTS = 100  # DingTalk: dept_id_list holds at most 100 departments (main + others)
LOGIN_RE = re.compile(r"^[A-Za-z0-9._@-]{1,64}$")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
URL_RE = re.compile(r"^https?://\S+$")
TELEPHONE_RE = re.compile(r"^[0-9+\-() ]+$")


@dataclass
class PersonRow:
    id: int
    name: str
    avatar_url: str
    mobile: str
    login_name: str
    main_dept_id: int
    main_dept_name: str
    is_main: bool  # the listed department is this person's main department
    title: str
    job_number: str
    email: str
    is_active: bool


@dataclass
class PersonInput:
    name: str = ""
    avatar_url: str = ""
    main_dept_id: int | None = None
    other_dept_ids: list[int] = field(default_factory=list)
    login_name: str = ""
    mobile: str = ""
    hide_mobile: bool = False
    senior_mode: bool = False
    email: str = ""
    job_number: str = ""
    title: str = ""
    telephone: str = ""  # 分机号


@dataclass
class PersonDetail:
    id: int
    data: PersonInput
    is_active: bool
    main_dept_name: str
    dept_names: dict[int, str]  # main and other departments the viewer may see
    hidden_other_depts: int  # other departments outside a department admin's scope (kept as they are)
    ding_userid: str
    editable: bool
    # Fields DingTalk refused to take (field -> {local, ding, code}); shown with the ways to resolve them.
    conflicts: dict[str, dict] = field(default_factory=dict)


# ---------------------------------------------------------------- lists


_SORTS = {"name": "name", "mobile": "mobile", "login_name": "login_name", "title": "title", "job_number": "job_number"}


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
    others = await departments.other_member_ids(scope.org_id, dept.id)
    where = Q(main_dept_id=dept.id) | Q(id__in=others) if others else Q(main_dept_id=dept.id)
    query = Person.filter(Q(org_id=scope.org_id) & where)
    if not include_inactive:
        query = query.filter(is_active=True)
    total = await query.count()
    offset, limit = page_bounds(page, size)
    key = _SORTS.get(sort, "name")
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
        data=_input_of(person, visible_others),
        is_active=person.is_active,
        main_dept_name=names[person.main_dept_id],
        dept_names=names,
        hidden_other_depts=len(others) - len(visible_others),
        ding_userid=person.ding_userid or "",
        editable=actor.can(Perm.CONTACTS_EDIT, scope.org_id),
        conflicts=dict(person.sync_conflicts or {}) if person.ding_userid else {},
    )


def _input_of(p: Person, other_ids: list[int]) -> PersonInput:
    return PersonInput(
        name=p.name,
        avatar_url=p.avatar_url,
        main_dept_id=p.main_dept_id,
        other_dept_ids=sorted(other_ids),
        login_name=p.login_name or "",
        mobile=p.mobile or "",
        hide_mobile=p.hide_mobile,
        senior_mode=p.senior_mode,
        email=p.email,
        job_number=p.job_number,
        title=p.title,
        telephone=p.telephone,
    )


# ---------------------------------------------------------------- validation


async def _validate(scope: Scope, data: PersonInput, current: Person | None, old_others: list[tuple[int, str]]):
    name = (data.name or "").strip()
    if not name:
        raise ValidationFailed("请填写姓名", field="name")
    if len(name) > NAME_MAX:
        raise ValidationFailed(f"姓名不能超过 {NAME_MAX} 个字符", field="name")
    if problem := dingtalk_limits.name_problem(name, "姓名"):
        raise ValidationFailed(problem, field="name")
    avatar = (data.avatar_url or "").strip()
    if avatar and (len(avatar) > 512 or not URL_RE.match(avatar)):
        raise ValidationFailed("头像url须以 http:// 或 https:// 开头，且不超过 512 个字符", field="avatar_url")
    try:
        mobile = normalise_mobile(data.mobile or "")
    except MobileInvalid as exc:
        raise ValidationFailed(exc.message, field="mobile") from None
    login = (data.login_name or "").strip()
    if login and not LOGIN_RE.match(login):
        raise ValidationFailed("登录账号只能包含字母、数字和 . _ @ -，且不超过 64 个字符", field="login_name")
    email = (data.email or "").strip()
    if email and (len(email) > 50 or not EMAIL_RE.match(email)):
        raise ValidationFailed("邮箱格式不正确（不超过 50 个字符）", field="email")
    job_number = (data.job_number or "").strip()
    if len(job_number) > 50:
        raise ValidationFailed("工号不能超过 50 个字符", field="job_number")
    title = (data.title or "").strip()
    if len(title) > 64:
        raise ValidationFailed("职位不能超过 64 个字符", field="title")
    telephone = (data.telephone or "").strip()
    if len(telephone) > 50 or (telephone and not TELEPHONE_RE.match(telephone)):
        raise ValidationFailed("分机号只能包含数字、空格和 + - ( )，且不超过 50 个字符", field="telephone")
    # Departments: the main one plus the others, all live, new ones inside the admin's scope.
    if data.main_dept_id is None:
        raise ValidationFailed("请选择主部门", field="main_dept_id")
    main = await Department.get_or_none(id=data.main_dept_id, org_id=scope.org_id, is_deleted=False)
    if main is None:
        raise ValidationFailed("主部门不存在或已删除", field="main_dept_id")
    if (current is None or current.main_dept_id != main.id) and not scope.covers(main.path):
        raise ValidationFailed("主部门不在您管理的范围内", field="main_dept_id")
    old_ids = {i for i, _ in old_others}
    kept_hidden = [i for i, p in old_others if not scope.covers(p)]
    wanted = [int(i) for i in dict.fromkeys(data.other_dept_ids) if int(i) != main.id]
    depts = {d.id: d for d in await Department.filter(org_id=scope.org_id, id__in=wanted, is_deleted=False)}
    for did in wanted:
        dept = depts.get(did)
        if dept is None:
            raise ValidationFailed(f"其他部门中有部门不存在或已删除（{did}）", field="other_dept_ids")
        if did not in old_ids and not scope.covers(dept.path):
            raise ValidationFailed(f"其他部门「{dept.name}」不在您管理的范围内", field="other_dept_ids")
    others = list(dict.fromkeys(wanted + [i for i in kept_hidden if i != main.id]))
    if 1 + len(others) > MAX_DEPTS:
        raise ValidationFailed(f"一个人最多属于 {MAX_DEPTS} 个部门（含主部门）", field="other_dept_ids")
    same_mobile = Person.filter(org_id=scope.org_id, mobile__in=mobile_forms(mobile))
    same_login = Person.filter(org_id=scope.org_id, login_name=login)
    if current is not None:
        same_mobile = same_mobile.exclude(id=current.id)
        same_login = same_login.exclude(id=current.id)
    taken = await same_mobile.order_by("id").first()
    if taken:
        stored = "" if taken.mobile == mobile else f"（登记为 {taken.mobile}）"
        raise ValidationFailed(f"手机号「{mobile}」已被「{taken.name}」{_state(taken)}使用{stored}", field="mobile")
    if login:
        taken = await same_login.first()
        if taken:
            raise ValidationFailed(f"登录账号已被「{taken.name}」{_state(taken)}使用", field="login_name")
    clean = PersonInput(
        name=name,
        avatar_url=avatar,
        main_dept_id=main.id,
        other_dept_ids=sorted(others),
        login_name=login,
        mobile=mobile,
        hide_mobile=bool(data.hide_mobile),
        senior_mode=bool(data.senior_mode),
        email=email,
        job_number=job_number,
        title=title,
        telephone=telephone,
    )
    return clean


def _state(p: Person) -> str:
    return "" if p.is_active else "（已置为无效）"


def snapshot(p: Person, other_ids: list[int]) -> dict:
    values = asdict(_input_of(p, other_ids))
    values["is_active"] = p.is_active
    return values


def _apply(p: Person, data: PersonInput) -> None:
    p.name = data.name
    p.avatar_url = data.avatar_url
    p.main_dept_id = data.main_dept_id
    p.login_name = data.login_name or None
    p.mobile = data.mobile
    p.hide_mobile = data.hide_mobile
    p.senior_mode = data.senior_mode
    p.email = data.email
    p.job_number = data.job_number
    p.title = data.title
    p.telephone = data.telephone


# ---------------------------------------------------------------- writes


async def _set_other_depts(w: Write, person: Person, old: list[int], new: list[int]) -> None:
    removed = [i for i in old if i not in new]
    added = [i for i in new if i not in old]
    if removed:
        await person.other_depts.remove(*await Department.filter(id__in=removed))
    if added:
        await person.other_depts.add(*await Department.filter(id__in=added))


async def create_person(actor: Actor, org_id: int | None, data: PersonInput) -> int:
    scope = await resolve(actor, org_id, Perm.CONTACTS_EDIT)
    clean = await _validate(scope, data, None, [])
    async with write(actor, scope=scope, kind="person") as w:
        person = Person(org_id=scope.org_id)
        _apply(person, clean)
        w.push(person)
        w.feed(person)
        await person.save()
        await _set_other_depts(w, person, [], clean.other_dept_ids)
        await w.audit(
            "contacts.person.create",
            object_id=person.id,
            object_name=person.name,
            after=snapshot(person, clean.other_dept_ids),
        )
        w.after_commit(lambda: departments.invalidate_counts(scope.org_id))
        w.contacts_changed(scope.org_id, "contacts.person.create", {"person_ids": [person.id]})
    return person.id


async def update_person(actor: Actor, org_id: int | None, person_id: int, data: PersonInput) -> None:
    scope = await resolve(actor, org_id, Perm.CONTACTS_EDIT)
    person, others = await get_person(scope, person_id)
    old_other_ids = [i for i, _ in others]
    clean = await _validate(scope, data, person, others)
    before = snapshot(person, old_other_ids)
    mapping_changed = (person.login_name or "") != clean.login_name or (person.mobile or "") != clean.mobile
    async with write(actor, scope=scope, kind="person") as w:
        _apply(person, clean)
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
            await departments.drop_leavers_from_roles(
                w, scope, {person.id: left}, {person.id: person.name}, "编辑人员时修改了主部门或其他部门"
            )
        w.after_commit(lambda: departments.invalidate_counts(scope.org_id))
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
        object_type="person",
        object_id=person.id,
        object_name=person.name,
        before=before,
        after={"is_active": active},
    )


async def _disable(w: Write, person: Person, other_ids: list[int]) -> None:
    await _set_active(w, person, other_ids, False)


async def _revoke_dept_admin(actor: Actor, org_id: int, person_ids: list[int]) -> None:
    """An invalid person keeps no admin power: their department-admin grant goes with them."""
    grants = await RoleGrant.filter(role=Role.DEPT_ADMIN, org_id=org_id, person_id__in=person_ids)
    if grants:
        org = await Org.get(id=org_id)
        for grant in grants:
            await accounts.revoke_role(actor, account_id=grant.account_id, role=Role.DEPT_ADMIN, org=org)


async def disable_person(actor: Actor, org_id: int | None, person_id: int) -> None:
    """删除人员 from the person's page: 置为无效."""
    scope = await resolve(actor, org_id, Perm.CONTACTS_EDIT)
    person, others = await get_person(scope, person_id)
    if not person.is_active:
        raise ValidationFailed(f"「{person.name}」已是无效人员")
    async with write(actor, scope=scope, kind="person") as w:
        await _disable(w, person, [i for i, _ in others])
        await departments.drop_people_from_roles(w, scope, {person.id: person.name})
        w.after_commit(lambda: _revoke_dept_admin(actor, scope.org_id, [person.id]))
        w.after_commit(lambda: departments.invalidate_counts(scope.org_id))
        w.contacts_changed(scope.org_id, "contacts.person.disable", {"person_ids": [person.id]})


async def _restore_refusal(org_id: int, person: Person) -> ValidationFailed | None:
    if person.main_dept.is_deleted:
        return ValidationFailed(
            f"「{person.name}」的主部门「{person.main_dept.name}」已删除，请先编辑人员修改主部门后再恢复有效",
            field="main_dept_id",
        )
    active_others = Person.filter(org_id=org_id, is_active=True).exclude(id=person.id)
    if person.mobile:
        taken = await active_others.filter(mobile__in=mobile_forms(person.mobile)).first()
        if taken:
            return ValidationFailed(
                f"手机号 {person.mobile} 已被有效人员「{taken.name}」使用，不能恢复「{person.name}」", field="mobile"
            )
    if person.login_name:
        taken = await active_others.filter(login_name=person.login_name).first()
        if taken:
            return ValidationFailed(
                f"登录账号 {person.login_name} 已被有效人员「{taken.name}」使用，不能恢复「{person.name}」",
                field="login_name",
            )
    return None


async def restore_person(actor: Actor, org_id: int | None, person_id: int) -> None:
    """恢复有效: an invalid person becomes valid again and the next push brings them back to DingTalk.

    Their former 部门主管 / 部门管理员 places and admin grant were dropped when they were set invalid and stay
    dropped: an admin gives them back on purpose."""
    scope = await resolve(actor, org_id, Perm.CONTACTS_EDIT)
    person, others = await get_person(scope, person_id)
    if person.is_active:
        raise ValidationFailed(f"「{person.name}」已是有效人员")
    async with write(actor, scope=scope, kind="person") as w:
        refusal = await _restore_refusal(scope.org_id, person)
        if refusal:
            raise refusal
        await _set_active(w, person, [i for i, _ in others], True)
        w.after_commit(lambda: departments.invalidate_counts(scope.org_id))
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
    other = set(await departments.other_member_ids(scope.org_id, dept.id)) & set(ids)
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
            await _disable(w, person, list(others))
            disabled[person.id] = person.name
        await departments.drop_people_from_roles(w, scope, disabled)
        removed: dict[int, str] = {}
        for person in await Person.filter(id__in=plan.remove):
            others = list(await Department.filter(other_people__id=person.id).values_list("id", flat=True))
            before = snapshot(person, others)
            await person.other_depts.remove(dept)
            w.push(person)
            await person.save(update_fields=["needs_push", "updated_at"])
            await w.audit(
                "contacts.person.remove_dept",
                object_id=person.id,
                object_name=person.name,
                before=before,
                after={"other_dept_ids": [i for i in others if i != dept.id]},
                detail=f"从其他部门中移除「{dept.name}」",
            )
            removed[person.id] = person.name
        await departments.drop_leavers_from_roles(
            w, scope, dict.fromkeys(removed, [dept.id]), removed, f"已从其他部门「{dept.name}」中移除"
        )
        if plan.disable:
            w.after_commit(lambda: _revoke_dept_admin(actor, scope.org_id, plan.disable))
        w.after_commit(lambda: departments.invalidate_counts(scope.org_id))
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
            before = snapshot(person, other_ids)
            await person.other_depts.add(dept)
            w.push(person)
            await person.save(update_fields=["needs_push", "updated_at"])
            await w.audit(
                "contacts.person.add_dept",
                object_id=person.id,
                object_name=person.name,
                before=before,
                after={"other_dept_ids": sorted([*other_ids, dept.id])},
                detail=f"加入部门「{dept.name}」",
            )
            added += 1
        if added:
            w.after_commit(lambda: departments.invalidate_counts(scope.org_id))
        w.contacts_changed(scope.org_id, "contacts.person.add_dept", {"dept_ids": [dept.id]})
    return added
