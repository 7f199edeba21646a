"""What a department form may hold: DingTalk's rules (dingtalk-api.md section 2) and the admin's scope.

Names of 1-64 characters without "-", "," or "，", unique under one parent; permit lists of at most 50 entries; no
cycles; 部门主管 must be members; 部门管理员 need a login account or a mobile; new ids inside the admin's scope.
"""

from __future__ import annotations

from tortoise.expressions import Q

from app.core import dingtalk_limits
from app.models.contacts import Department, HideMode, Person, RestrictMode
from app.services.contacts.counts import count_members_by_id, other_member_ids
from app.services.contacts.dept_form import (
    HIDE_MODES,
    NAME_FORBIDDEN,
    NAME_MAX,
    PERMIT_LIMIT,
    RESTRICT_MODES,
    DeptInput,
    input_of,
)
from app.services.contacts.names import other_paths, person_names
from app.services.contacts.scope import Scope
from app.services.errors import ValidationFailed


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
    other = await other_paths(ids)
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


async def _visible_list(
    scope: Scope, chosen: tuple[list[int], list[int]], before: tuple[list[int], list[int]], prefix: str, what: str
) -> tuple[list[int], list[int]]:
    """One visibility list (隐藏后可见 / 自身可见): the people and departments chosen, checked together."""
    people = await _check_people(scope, chosen[0], before[0], f"{prefix}_person_ids", f"{what}人员", active=False)
    depts = await _check_depts(scope, chosen[1], before[1], f"{prefix}_dept_ids", f"{what}部门")
    if not people and not depts:
        raise ValidationFailed(f"请选择{what}的人员或部门", field=f"{prefix}_person_ids")
    if len(people) + len(depts) > PERMIT_LIMIT:
        raise ValidationFailed(f"{what}人员和部门合计不能超过 {PERMIT_LIMIT} 个", field=f"{prefix}_person_ids")
    return people, depts


async def validate(scope: Scope, data: DeptInput, current: Department | None) -> DeptInput:
    old = input_of(current) if current else DeptInput()
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
        clean.hide_person_ids, clean.hide_dept_ids = await _visible_list(
            scope,
            (data.hide_person_ids, data.hide_dept_ids),
            (old.hide_person_ids, old.hide_dept_ids),
            "hide",
            "隐藏后可见",
        )
    if restrict_mode == RestrictMode.SOME.value:
        clean.restrict_person_ids, clean.restrict_dept_ids = await _visible_list(
            scope,
            (data.restrict_person_ids, data.restrict_dept_ids),
            (old.restrict_person_ids, old.restrict_dept_ids),
            "restrict",
            "自身可见",
        )
    if clean.create_group and data.group_owner_id:
        if current is None:
            raise ValidationFailed("新部门还没有人员，群主默认为部门中的第一个人员", field="group_owner_id")
        members = await count_members_by_id(scope.org_id, current, data.group_owner_id, clean.group_include_sub)
        if not members:
            raise ValidationFailed("群主必须是本部门的有效人员", field="group_owner_id")
        clean.group_owner_id = int(data.group_owner_id)
    return clean
