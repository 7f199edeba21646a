"""Contact rules of a DingTalk org: what may be created, changed or deleted, with DingTalk's error codes.

Shared by the v2 (snake_case) handlers, the legacy (camelCase) handlers - which translate their fields to the v2
names first - and the control API acting as an admin in the DingTalk console. Every successful change emits the
matching callback event.
"""

from __future__ import annotations

import json
import random
import re
import secrets
from typing import TYPE_CHECKING, Any

from .errors import ApiError, invalid
from .routing import to_bool
from .seed import new_unionid, new_userid
from .state import ROOT_DEPT_ID, Corp, Department, User, now_ms

if TYPE_CHECKING:
    from .server import Simulator

MAX_DEPT_DEPTH = 15
MAX_USER_DEPTS = 100
MAINLAND_MOBILE = re.compile(r"^1[3-9]\d{9}$")
INTERNATIONAL_MOBILE = re.compile(r"^\+\d{1,4}-\d{4,15}$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
ILLEGAL_DEPT_CHARS = ("-", ",", "，")

DEPT_BOOL_FIELDS = (
    "create_dept_group",
    "auto_add_user",
    "group_contain_sub_dept",
    "group_contain_outer_dept",
    "group_contain_hidden_dept",
    "hide_dept",
    "outer_dept",
    "outer_dept_only_self",
    "auto_approve_apply",
)
USER_TEXT_FIELDS = (
    "telephone",
    "job_number",
    "title",
    "email",
    "org_email",
    "org_email_type",
    "work_place",
    "remark",
    "manager_userid",
    "avatar",
    "exclusive_account_type",
    "login_id",
)


def split_ids(value: Any, name: str, *, sep: str = ",") -> list[str]:
    """DingTalk writes id lists as separated strings ("a,b" in v2, "a|b" legacy); arrays are accepted too."""
    if value is None or value == "":
        return []
    if isinstance(value, list):
        return [str(v).strip() for v in value if str(v).strip()]
    if isinstance(value, int):
        return [str(value)]
    if not isinstance(value, str):
        raise invalid(name)
    text = value.strip()
    if text.startswith("["):
        try:
            return split_ids(json.loads(text), name)
        except ValueError:
            raise invalid(name) from None
    return [part.strip() for part in re.split(rf"[{re.escape(sep)},|]", text) if part.strip()]


def split_int_ids(value: Any, name: str, errcode: int = 40035) -> list[int]:
    result = []
    for part in split_ids(value, name):
        try:
            result.append(int(part))
        except ValueError:
            raise ApiError(errcode, f"不合法的参数 {name}") from None
    return result


class Directory:
    def __init__(self, sim: Simulator, corp: Corp, *, operator: str | None = None) -> None:
        self.sim = sim
        self.corp = corp
        self.operator = operator

    def emit(self, tag: str, **ids: Any) -> None:
        self.sim.dispatcher.emit(self.corp, tag, operator=self.operator, **ids)

    # -- departments ------------------------------------------------------------------------------------------

    def dept(self, dept_id: int | None, errcode: int = 60003) -> Department:
        dept = self.corp.departments.get(dept_id) if dept_id is not None else None
        if dept is None:
            raise ApiError(errcode)
        return dept

    def _check_name(self, name: str, parent_id: int, exclude: int | None = None) -> None:
        if not name or len(name) > 64:
            raise ApiError(60001)
        if any(ch in name for ch in ILLEGAL_DEPT_CHARS):
            raise ApiError(60009)
        for sibling in self.corp.children(parent_id):
            if sibling.name == name and sibling.dept_id != exclude:
                raise ApiError(60008)

    def depth(self, dept_id: int) -> int:
        depth = 0
        dept = self.corp.departments.get(dept_id)
        while dept is not None and dept.dept_id != ROOT_DEPT_ID:
            depth += 1
            dept = self.corp.departments.get(dept.parent_id)
        return depth

    def _apply_dept_fields(self, dept: Department, fields: dict[str, Any], *, creating: bool) -> None:
        permit_error = 600109 if creating else 60109
        for name in DEPT_BOOL_FIELDS:
            if fields.get(name) is not None:
                setattr(dept, name, to_bool(fields[name], name))
        if fields.get("order") is not None:
            try:
                dept.order = int(fields["order"])
            except (TypeError, ValueError):
                raise ApiError(40011) from None
        for name in ("source_identifier", "code", "ext"):
            if fields.get(name) is not None:
                setattr(dept, name, str(fields[name]))
        if dept.code and len(dept.code) > 30:
            raise invalid("code")
        for name in ("dept_permits", "outer_permit_depts"):
            if fields.get(name) is not None:
                ids = split_int_ids(fields[name], name, permit_error)
                if any(i not in self.corp.departments for i in ids):
                    raise ApiError(permit_error)
                setattr(dept, name, ids)
        for name in ("user_permits", "outer_permit_users"):
            if fields.get(name) is not None:
                userids = split_ids(fields[name], name)
                if any(u not in self.corp.users for u in userids):
                    raise ApiError(permit_error)
                setattr(dept, name, userids)
        limit_pairs = (
            (("dept_permits",), ("user_permits",), ("outer_permit_depts",), ("outer_permit_users",))
            if creating
            else (("dept_permits", "user_permits"), ("outer_permit_depts", "outer_permit_users"))
        )
        for group in limit_pairs:
            if sum(len(getattr(dept, name)) for name in group) > 50:
                raise ApiError(permit_error)
        members = {u.userid for u in self.corp.members(dept.dept_id)}
        force = split_ids(fields.get("force_update_fields"), "force_update_fields")
        if "dept_manager_userid_list" in force:
            dept.dept_manager_userid_list = []
        if fields.get("dept_manager_userid_list") not in (None, ""):
            managers = split_ids(fields["dept_manager_userid_list"], "dept_manager_userid_list")
            if any(m not in members for m in managers):
                raise ApiError(40031, "不存在的userId")
            dept.dept_manager_userid_list = managers
        if fields.get("org_dept_owner") not in (None, ""):
            owner = str(fields["org_dept_owner"])
            if owner not in members:
                raise ApiError(40093)
            dept.org_dept_owner = owner
        if dept.create_dept_group and not dept.dept_group_chat_id:
            dept.dept_group_chat_id = "chat" + secrets.token_hex(16)

    def create_department(self, fields: dict[str, Any]) -> Department:
        name = str(fields.get("name") or "")
        if fields.get("parent_id") in (None, ""):
            raise ApiError(40035, "缺少参数 parent_id")
        try:
            parent_id = int(fields["parent_id"])
        except (TypeError, ValueError):
            raise ApiError(60004) from None
        if parent_id not in self.corp.departments:
            raise ApiError(60004)
        self._check_name(name, parent_id)
        if self.depth(parent_id) + 1 > MAX_DEPT_DEPTH:
            raise ApiError(60002)
        dept = Department(dept_id=self.corp.new_dept_id(), name=name, parent_id=parent_id, seq=self.corp.seq())
        # The permit and manager checks need the department to exist for member lookups, so validate first on a
        # detached object and only then insert it.
        self._apply_dept_fields(
            dept, {**fields, "dept_manager_userid_list": None, "org_dept_owner": None}, creating=True
        )
        self.corp.departments[dept.dept_id] = dept
        self.emit("org_dept_create", dept_ids=[dept.dept_id])
        return dept

    def update_department(self, dept_id: int, fields: dict[str, Any]) -> Department:
        dept = self.dept(dept_id)
        new_name = fields.get("name")
        new_parent = fields.get("parent_id")
        if dept.dept_id == ROOT_DEPT_ID and (
            (new_parent not in (None, "") and str(new_parent) != "0")
            or (new_name not in (None, "") and new_name != dept.name)
        ):
            raise ApiError(60018)
        parent_id = dept.parent_id
        if new_parent not in (None, "") and dept.dept_id != ROOT_DEPT_ID:
            try:
                parent_id = int(new_parent)
            except (TypeError, ValueError):
                raise ApiError(60004) from None
            if parent_id not in self.corp.departments:
                raise ApiError(60004)
            if parent_id in self.corp.subtree_ids(dept.dept_id):
                raise ApiError(60010)
        name = str(new_name) if new_name not in (None, "") else dept.name
        if dept.dept_id != ROOT_DEPT_ID and (name != dept.name or parent_id != dept.parent_id):
            self._check_name(name, parent_id, exclude=dept.dept_id)
            subtree_height = max(self.depth(i) for i in self.corp.subtree_ids(dept.dept_id)) - self.depth(dept.dept_id)
            if self.depth(parent_id) + 1 + subtree_height > MAX_DEPT_DEPTH:
                raise ApiError(60002)
        # Validate on a copy so a rejected update changes nothing.
        draft = Department(**{**dept.__dict__})
        draft.dept_manager_userid_list = list(dept.dept_manager_userid_list)
        self._apply_dept_fields(draft, fields, creating=False)
        draft.name, draft.parent_id = name, parent_id
        self.corp.departments[dept.dept_id] = draft
        self.emit("org_dept_modify", dept_ids=[dept.dept_id])
        return draft

    def delete_department(self, dept_id: int) -> None:
        if dept_id == ROOT_DEPT_ID:
            raise ApiError(60007)
        dept = self.dept(dept_id)
        if self.corp.children(dept.dept_id):
            raise ApiError(60006)
        if self.corp.members(dept.dept_id):
            raise ApiError(60005)
        del self.corp.departments[dept.dept_id]
        for other in self.corp.departments.values():
            if dept_id in other.dept_permits:
                other.dept_permits.remove(dept_id)
            if dept_id in other.outer_permit_depts:
                other.outer_permit_depts.remove(dept_id)
        self.emit("org_dept_remove", dept_ids=[dept_id])

    # -- users ------------------------------------------------------------------------------------------------

    def user(self, userid: str | None) -> User:
        user = self.corp.users.get(userid) if userid else None
        if user is None:
            raise ApiError(60121)
        return user

    @staticmethod
    def normalize_mobile(mobile: str) -> str:
        mobile = mobile.strip()
        if mobile.startswith("+86-"):
            mobile = mobile[4:]
        if MAINLAND_MOBILE.match(mobile) or INTERNATIONAL_MOBILE.match(mobile):
            return mobile
        raise ApiError(60103)

    def _dept_list(self, value: Any) -> list[int]:
        ids = split_int_ids(value, "dept_id_list", 40009)
        if not ids:
            raise ApiError(40035, "缺少参数 dept_id_list")
        if len(ids) > MAX_USER_DEPTS:
            raise ApiError(60110)
        for dept_id in ids:
            if dept_id not in self.corp.departments:
                raise ApiError(60003)
        return list(dict.fromkeys(ids))

    def _apply_user_fields(self, user: User, fields: dict[str, Any]) -> None:
        if fields.get("name") is not None:
            name = str(fields["name"]).strip()
            if not name or len(name) > 80:
                raise ApiError(60112)
            user.name = name
        if fields.get("dept_id_list") not in (None, ""):
            user.dept_id_list = self._dept_list(fields["dept_id_list"])
            user.dept_order_list = [o for o in user.dept_order_list if o.get("dept_id") in user.dept_id_list]
        for name in USER_TEXT_FIELDS:
            if fields.get(name) is not None:
                setattr(user, name, str(fields[name]))
        for name in ("hide_mobile", "active", "senior", "exclusive_account"):
            if fields.get(name) is not None:
                setattr(user, name, to_bool(fields[name], name))
        if fields.get("senior_mode") is not None:
            user.senior = to_bool(fields["senior_mode"], "senior_mode")
        if fields.get("hired_date") not in (None, ""):
            try:
                user.hired_date = int(fields["hired_date"])
            except (TypeError, ValueError):
                raise invalid("hired_date") from None
        if user.email:
            if len(user.email) > 50 or not EMAIL.match(user.email):
                raise ApiError(60105)
            if any(u.email == user.email and u.userid != user.userid for u in self.corp.users.values()):
                raise ApiError(60106)
        if user.manager_userid and user.manager_userid not in self.corp.users:
            raise ApiError(60128)
        if "manager_userid" in split_ids(fields.get("force_update_fields"), "force_update_fields"):
            user.manager_userid = ""
        for list_name, value_name in (("dept_order_list", "order"), ("dept_title_list", "title")):
            items = fields.get(list_name)
            if items in (None, ""):
                continue
            if isinstance(items, str):
                try:
                    items = json.loads(items)
                except ValueError:
                    raise invalid(list_name) from None
            if not isinstance(items, list) or not all(isinstance(i, dict) and "dept_id" in i for i in items):
                raise invalid(list_name)
            setattr(user, list_name, [{"dept_id": int(i["dept_id"]), value_name: i.get(value_name)} for i in items])
        extension = fields.get("extension")
        if extension not in (None, ""):
            if isinstance(extension, str):
                try:
                    extension = json.loads(extension)
                except ValueError:
                    raise invalid("extension") from None
            if not isinstance(extension, dict):
                raise invalid("extension")
            if str(fields.get("ext_attrs_update_mode", "0")) == "1" and user.extension:
                extension = {**json.loads(user.extension), **extension}
            user.extension = json.dumps(extension, ensure_ascii=False)
            if len(user.extension) > 2000:
                raise invalid("extension")

    def create_user(self, fields: dict[str, Any]) -> User:
        name = fields.get("name")
        if name in (None, ""):
            raise ApiError(40035, "缺少参数 name")
        exclusive = to_bool(fields.get("exclusive_account") or False, "exclusive_account")
        raw_mobile = str(fields.get("mobile") or fields.get("exclusive_mobile") or "")
        if not raw_mobile and not exclusive:
            raise ApiError(60113) if not fields.get("email") else ApiError(40035, "缺少参数 mobile")
        mobile = self.normalize_mobile(raw_mobile) if raw_mobile else ""
        if fields.get("dept_id_list") in (None, ""):
            raise ApiError(40035, "缺少参数 dept_id_list")
        userid = str(fields.get("userid") or "")
        if userid:
            if len(userid) > 64:
                raise ApiError(33012)
            if userid in self.corp.users:
                raise ApiError(60102)
        if mobile and self.corp.user_by_mobile(mobile) is not None:
            raise ApiError(60104)
        fault = self.sim.faults.mobile_error(self.corp.corpid, mobile) if mobile else None
        if fault is not None:
            # Account protection / the 5-org cap: DingTalk answers without creating the user.
            raise ApiError(fault)
        rng = random.Random(secrets.randbits(64))
        if not userid:
            userid = new_userid(rng)
            while userid in self.corp.users:
                userid = new_userid(rng)
        created = now_ms()
        user = User(
            userid=userid,
            unionid=new_unionid(rng),
            name="",
            mobile=mobile,
            create_time=created,
            modify_time=created,
            seq=self.corp.seq(),
            active=not exclusive,
        )
        self._apply_user_fields(user, fields)
        self.corp.users[userid] = user
        self.emit("user_add_org", user_ids=[userid])
        return user

    def update_user(self, userid: str, fields: dict[str, Any], *, allow_mobile: bool = False) -> User:
        user = self.user(userid)
        draft = User(**{**user.__dict__})
        draft.dept_id_list = list(user.dept_id_list)
        mobile = fields.get("mobile")
        if mobile not in (None, ""):
            normalized = self.normalize_mobile(str(mobile))
            if normalized != user.mobile:
                # DingTalk keeps the number a user who joined logs in with; the API cannot change it (40022).
                if not allow_mobile and user.active:
                    raise ApiError(40022)
                if self.corp.user_by_mobile(normalized) is not None:
                    raise ApiError(60104)
                draft.mobile = normalized
        self._apply_user_fields(draft, fields)
        draft.modify_time = now_ms()
        self.corp.users[userid] = draft
        # Managers must be members: leaving a department drops the manager and owner roles there.
        for dept in self.corp.departments.values():
            if dept.dept_id not in draft.dept_id_list:
                if userid in dept.dept_manager_userid_list:
                    dept.dept_manager_userid_list.remove(userid)
                if dept.org_dept_owner == userid:
                    dept.org_dept_owner = ""
        self.emit("user_modify_org", user_ids=[userid])
        return draft

    def delete_user(self, userid: str) -> None:
        self.user(userid)
        del self.corp.users[userid]
        for dept in self.corp.departments.values():
            if userid in dept.dept_manager_userid_list:
                dept.dept_manager_userid_list.remove(userid)
            if dept.org_dept_owner == userid:
                dept.org_dept_owner = ""
            for name in ("user_permits", "outer_permit_users"):
                if userid in getattr(dept, name):
                    getattr(dept, name).remove(userid)
        for other in self.corp.users.values():
            if other.manager_userid == userid:
                other.manager_userid = ""
        self.emit("user_leave_org", user_ids=[userid])

    def set_admin(self, userid: str, sys_level: int) -> User:
        user = self.user(userid)
        was_admin = user.admin
        user.admin = sys_level in (1, 2)
        user.sys_level = sys_level if user.admin else 0
        if user.admin and not was_admin:
            self.emit("org_admin_add", user_ids=[userid])
        elif was_admin and not user.admin:
            self.emit("org_admin_remove", user_ids=[userid])
        return user
