"""A person as the 新增人员 / 编辑人员 form holds them (guide 3.3.5.5-3.3.5.7) and the rules the form enforces.

Field rules follow DingTalk (dingtalk-api.md section 3): mobile unique in the org, "+86-13800000000" and
"13800000000" being one number (mainland 11 digits or "+xx-xxxx"), at most 100 departments per person, email/job
number at most 50 characters. 恢复有效 is refused while the person's mobile or login account is taken by a valid
person, or their main department is gone.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field

from app.core import dingtalk_limits
from app.core.mobiles import MobileInvalid, mobile_forms, normalise_mobile
from app.models.contacts import Department, Person
from app.services.contacts.scope import Scope
from app.services.errors import ValidationFailed

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


def input_of(p: Person, other_ids: list[int]) -> PersonInput:
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


async def validate(scope: Scope, data: PersonInput, current: Person | None, old_others: list[tuple[int, str]]):
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
    values = asdict(input_of(p, other_ids))
    values["is_active"] = p.is_active
    return values


def apply_input(p: Person, data: PersonInput) -> None:
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


async def restore_refusal(org_id: int, person: Person) -> ValidationFailed | None:
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
