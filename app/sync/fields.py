"""Every contacts field that crosses a boundary (source system, LanDing, DingTalk), declared once.

One ``SyncField`` per field names the local column, the DingTalk field (v2 write name and the attribute of the
answer models it is read back from), the source element's attribute, how values are normalised before they are
compared, who owns the field, the DingTalk error codes with which DingTalk refuses to change it, and its default.
Everything else is derived from this table, so a new field is one line here plus its column:

- the *DingTalk view* of a local object or of a DingTalk answer (``person_view`` / ``person_view_from_ding``):
  a dict of field name -> normalised value, with every field at its default left out, so adding an empty field
  changes no existing hash and re-pushes nobody;
- the create and update bodies sent to DingTalk (``user_body``);
- the local values read back from DingTalk (callbacks, the baseline pull) and from the source (``*_values``).

Relations (``dept_id_list``, a department's parent, its managers and visibility lists) name other objects by id,
so they are mapped here too but by functions that take the id maps.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from app.core.mobiles import plain_mobile
from app.models.contacts import Department, HideMode, RestrictMode


class Owner(StrEnum):
    SOURCE = "source"  # the source system (EKP) sets it; an admin may edit people without a source
    LANDING = "landing"  # set in LanDing and pushed to DingTalk
    DINGTALK = "dingtalk"  # read from DingTalk only (avatar, unionid): never pushed


def _text(limit: int) -> Callable[[Any], str]:
    def norm(value: Any) -> str:
        if not value:
            return ""
        return (value if type(value) is str else str(value)).strip()[:limit]

    return norm


def _mobile(value: Any) -> str:
    return plain_mobile(str(value or "").strip())[:32]


def _flag(value: Any) -> bool:
    return bool(value)


@dataclass(frozen=True, slots=True)
class SyncField:
    local: str  # column of the local model
    ding: str | None  # DingTalk v2 write field; None: DingTalk never receives it
    ding_read: str | None  # attribute of the DingTalk answer it is read back from; None: not read back
    source: str | None  # attribute of the source element; None: the source does not carry it
    normalise: Callable[[Any], Any]
    owner: Owner
    default: Any = ""
    refused_by: frozenset[int] = frozenset()  # errcodes with which DingTalk refuses to change this field alone
    local_empty: Any = ""  # what the local column holds when empty ("" or None for nullable unique columns)
    send_empty_as_none: bool = False  # DingTalk rejects an empty string (email): leave the field out instead

    def local_value(self, value: Any) -> Any:
        """The normalised value as the local column stores it."""
        value = self.normalise(value)
        return self.local_empty if value == self.default and self.local_empty != self.default else value


# The person fields. ``name`` from the source falls back to the login name and the element id (EKP allows an
# element without a display name); that fallback lives in ``person_source_values``.
PERSON: tuple[SyncField, ...] = (
    SyncField("name", "name", "name", "name", _text(64), Owner.SOURCE),
    # DingTalk keeps the mobile a user logged in with: changing it by API answers 40022 (dingtalk-api.md 3.3).
    SyncField(
        "mobile",
        "mobile",
        "mobile",
        "mobile_no",
        _mobile,
        Owner.SOURCE,
        refused_by=frozenset({40022}),
        local_empty=None,
        send_empty_as_none=True,
    ),
    SyncField("email", "email", "email", "email", _text(128), Owner.SOURCE, send_empty_as_none=True),
    SyncField("job_number", "job_number", "job_number", "no", _text(64), Owner.SOURCE),
    SyncField("title", "title", "title", None, _text(64), Owner.LANDING),
    SyncField("telephone", "telephone", "telephone", "work_phone", _text(50), Owner.SOURCE),
    SyncField("hide_mobile", "hide_mobile", "hide_mobile", None, _flag, Owner.LANDING, default=False),
    SyncField("senior_mode", "senior_mode", "senior", None, _flag, Owner.LANDING, default=False),
    SyncField("login_name", None, None, "login_name", _text(64), Owner.SOURCE, local_empty=None),
    SyncField("avatar_url", None, "avatar", None, _text(512), Owner.DINGTALK),
)
PERSON_PUSHED = tuple(f for f in PERSON if f.ding)  # what DingTalk receives
PERSON_FROM_DING = tuple(f for f in PERSON if f.ding_read)  # what callbacks and the baseline pull copy
PERSON_FROM_SOURCE = tuple(f for f in PERSON if f.source)
BY_LOCAL = {f.local: f for f in PERSON}

# Department scalar fields of the *main* push pass (before people exist). ``parent`` is a relation, below.
DEPT: tuple[SyncField, ...] = (
    SyncField("name", "name", "name", "name", _text(64), Owner.SOURCE),
    SyncField("order", "order", "order", "order", lambda v: int(v or 0), Owner.SOURCE, default=0),
    SyncField("create_group", "create_dept_group", "create_dept_group", None, _flag, Owner.LANDING, default=False),
)
# Read back from a ``listsub`` item (which carries no ``order``): the fields a full reconcile can compare cheaply.
DEPT_LISTED = ("name", "create_group")


def _compact(values: Mapping[str, Any], table: Iterable[SyncField]) -> dict[str, Any]:
    return {f.local: values[f.local] for f in table if f.local in values and values[f.local] != f.default}


# -- people ------------------------------------------------------------------------------------------------------


def person_values(person: Any) -> dict[str, Any]:
    """Normalised values of every pushed field of a local person (row object or anything with the attributes)."""
    return {f.local: f.normalise(getattr(person, f.local)) for f in PERSON_PUSHED}


def person_view(person: Any, dept_ids: list[int]) -> dict[str, Any]:
    """What DingTalk should hold of ``person``: pushed fields not at their default, and the department list."""
    return {**_compact(person_values(person), PERSON_PUSHED), "dept_id_list": list(dept_ids)}


def person_view_from_ding(user: Any) -> dict[str, Any]:
    """The same view of a DingTalk user (``v2/user/get`` answer or ``v2/user/list`` item)."""
    values = {f.local: f.normalise(getattr(user, f.ding_read)) for f in PERSON_PUSHED if f.ding_read}
    if not values.get("email") and getattr(user, "org_email", None):
        values["email"] = BY_LOCAL["email"].normalise(user.org_email)
    return {**_compact(values, PERSON_PUSHED), "dept_id_list": [int(x) for x in user.dept_id_list or []]}


def view_values(view: Mapping[str, Any]) -> dict[str, Any]:
    """Every pushed field of a view, defaults filled back in (the inverse of the compaction)."""
    return {f.local: view.get(f.local, f.default) for f in PERSON_PUSHED}


def user_body(view: Mapping[str, Any], *, create: bool, leave_out: Iterable[str] = ()) -> dict[str, Any]:
    """The create or update body for a view (DingTalk field names; the client turns lists into CSV).

    Fields at their default are sent on update too, so clearing a title in LanDing clears it in DingTalk.
    ``leave_out`` drops fields DingTalk refused for this user (see ``SyncField.refused_by``). On create the mobile
    is a required argument of its own.
    """
    skip = set(leave_out)
    values = view_values(view)
    body: dict[str, Any] = {}
    for f in PERSON_PUSHED:
        if f.local in skip or (create and f.local == "mobile"):
            continue
        value = values[f.local]
        if f.send_empty_as_none and value == f.default:
            value = None
        if create and value == f.default:
            continue
        body[f.ding] = value
    body["dept_id_list"] = list(view["dept_id_list"])
    return body


def refusable(code: Any, view: Mapping[str, Any]) -> list[str]:
    """The fields DingTalk may have refused with ``code`` (those present in the update)."""
    return [f.local for f in PERSON_PUSHED if code in f.refused_by and f.local in view_values(view)]


def person_ding_values(user: Any) -> dict[str, Any]:
    """Local column values of a person read from DingTalk (callbacks, baseline pull, reconcile links)."""
    values = {f.local: f.local_value(getattr(user, f.ding_read)) for f in PERSON_FROM_DING}
    if not values.get("email") and getattr(user, "org_email", None):
        values["email"] = BY_LOCAL["email"].local_value(user.org_email)
    values["name"] = values["name"] or str(user.userid)[:64]
    values["unionid"] = getattr(user, "unionid", None)
    values["is_active"] = True
    return values


# (column, source attribute, normaliser, default, empty local value): the source stage calls this per person, 100,000
# times in a full import, so the table is flattened once.
_FROM_SOURCE = tuple((f.local, f.source, f.normalise, f.default, f.local_empty) for f in PERSON_FROM_SOURCE)


def person_source_values(element: Any, main_dept_id: int) -> dict[str, Any]:
    """Local column values of a person read from the source system."""
    values = {}
    for local, attr, normalise, default, empty in _FROM_SOURCE:
        value = normalise(getattr(element, attr))
        values[local] = empty if value == default and empty != default else value
    values["name"] = values["name"] or BY_LOCAL["name"].normalise(element.login_name or element.id)
    values["main_dept_id"] = main_dept_id
    values["is_active"] = True
    return values


def differing(local: Mapping[str, Any], ding: Mapping[str, Any]) -> dict[str, tuple[Any, Any]]:
    """Field -> (LanDing value, DingTalk value) for every field where two views differ."""
    keys = [f.local for f in PERSON_PUSHED] + ["dept_id_list"]
    a, b = view_values(local), view_values(ding)
    a["dept_id_list"], b["dept_id_list"] = list(local.get("dept_id_list", [])), list(ding.get("dept_id_list", []))
    out = {}
    for k in keys:
        left, right = a[k], b[k]
        if k == "dept_id_list":
            same = sorted(left) == sorted(right) and (left[:1] == right[:1] or not left or not right)
        else:
            same = left == right
        if not same:
            out[k] = (left, right)
    return out


# -- departments ---------------------------------------------------------------------------------------------------


def dept_main_view(dept: Any, parent_ding: int | None) -> dict[str, Any]:
    values = {f.local: f.normalise(getattr(dept, f.local)) for f in DEPT}
    return {**_compact(values, DEPT), "parent_id": int(parent_ding or 0)}


def dept_main_from_ding(ding: Any) -> dict[str, Any]:
    values = {f.local: f.normalise(getattr(ding, f.ding_read, None)) for f in DEPT}
    return {**_compact(values, DEPT), "parent_id": int(ding.parent_id or 0)}


def dept_body(view: Mapping[str, Any]) -> dict[str, Any]:
    """Create/update body of the main pass; ``create_dept_group`` is sent only to switch the group on."""
    body = {f.ding: view.get(f.local, f.default) for f in DEPT}
    body["create_dept_group"] = body["create_dept_group"] or None
    body["parent_id"] = view["parent_id"]
    return body


def dept_listed_differences(dept: Department, brief: Any) -> dict[str, tuple[Any, Any]]:
    """Scalar differences visible in a ``listsub`` item (no ``order`` there)."""
    out = {}
    for f in DEPT:
        if f.local in DEPT_LISTED:
            mine, theirs = f.normalise(getattr(dept, f.local)), f.normalise(getattr(brief, f.ding_read, None))
            if mine != theirs:
                out[f.local] = (mine, theirs)
    return out


# Relations half: people-related settings, pushed after the people exist. Keys are part of the stored hash.
DEFAULT_REL = {
    "managers": [],
    "owner": "",
    "group_sub": False,
    "hide_dept": False,
    "dept_permits": [],
    "user_permits": [],
    "outer_dept": False,
    "only_self": False,
    "outer_depts": [],
    "outer_users": [],
}


def dept_rel_view(dept: Department, person_ding: dict[int, str], dept_ding: dict[int, int]) -> dict[str, Any]:
    def users(ids: Iterable[Any]) -> list[str]:
        return [person_ding[int(i)] for i in ids or [] if int(i) in person_ding]

    def depts(ids: Iterable[Any]) -> list[int]:
        return sorted(dept_ding[int(i)] for i in ids or [] if int(i) in dept_ding)

    hide = dept.hide_mode != HideMode.OFF
    outer = dept.restrict_mode != RestrictMode.OFF
    some_hidden = dept.hide_mode == HideMode.SOME
    some_outer = dept.restrict_mode == RestrictMode.SOME
    owner = person_ding.get(dept.group_owner_id or 0, "") if dept.create_group else ""
    return {
        "managers": users(dept.manager_ids),
        "owner": owner,
        "group_sub": bool(dept.group_include_sub) if dept.create_group else False,
        "hide_dept": hide,
        "dept_permits": depts(dept.hide_visible_dept_ids) if some_hidden else [],
        "user_permits": sorted(users(dept.hide_visible_person_ids)) if some_hidden else [],
        "outer_dept": outer,
        "only_self": dept.restrict_mode == RestrictMode.SELF,
        "outer_depts": depts(dept.restrict_dept_ids) if some_outer else [],
        "outer_users": sorted(users(dept.restrict_person_ids)) if some_outer else [],
    }


def dept_rel_from_ding(dept: Any) -> dict[str, Any]:
    hide = bool(dept.hide_dept)
    outer = bool(dept.outer_dept)
    return {
        "managers": list(dept.dept_manager_userid_list or []),
        "owner": (dept.org_dept_owner or "") if dept.create_dept_group else "",
        "group_sub": bool(dept.group_contain_sub_dept) if dept.create_dept_group else False,
        "hide_dept": hide,
        "dept_permits": sorted(int(x) for x in dept.dept_permits or []) if hide else [],
        "user_permits": sorted(str(x) for x in dept.user_permits or []) if hide else [],
        "outer_dept": outer,
        "only_self": bool(dept.outer_dept_only_self) if outer else False,
        "outer_depts": sorted(int(x) for x in dept.outer_permit_depts or []) if outer else [],
        "outer_users": sorted(str(x) for x in dept.outer_permit_users or []) if outer else [],
    }


def rel_body(view: dict[str, Any], create_group: bool) -> dict[str, Any]:
    """The update body for a relations view (DingTalk field names; lists become CSV in the client)."""
    body: dict[str, Any] = {
        "hide_dept": view["hide_dept"],
        "dept_permits": view["dept_permits"] if view["hide_dept"] else None,
        "user_permits": view["user_permits"] if view["hide_dept"] else None,
        "outer_dept": view["outer_dept"],
        "outer_dept_only_self": view["only_self"] if view["outer_dept"] else None,
        "outer_permit_depts": view["outer_depts"] if view["outer_dept"] else None,
        "outer_permit_users": view["outer_users"] if view["outer_dept"] else None,
    }
    if view["managers"]:
        body["dept_manager_userid_list"] = view["managers"]
    else:
        body["force_update_fields"] = "dept_manager_userid_list"
    if create_group:
        body["auto_add_user"] = True
        body["group_contain_sub_dept"] = view["group_sub"]
        if view["owner"]:
            body["org_dept_owner"] = view["owner"]
    return body


FIELD_LABELS = {
    "name": "姓名",
    "mobile": "手机号",
    "email": "邮箱",
    "job_number": "工号",
    "title": "职位",
    "telephone": "分机号",
    "hide_mobile": "隐藏手机号",
    "senior_mode": "高管模式",
    "dept_id_list": "所在部门",
    "create_group": "创建部门群",
    "order": "排序",
    "parent_id": "上级部门",
}


def label(field: str) -> str:
    return FIELD_LABELS.get(field, field)
