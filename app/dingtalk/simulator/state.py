"""In-memory state of the simulated DingTalk: corps, apps, departments, users, tokens and pushed items.

Everything here is plain data (dataclasses of JSON-friendly values) so the whole state can be saved and loaded
as one JSON document. Behaviour lives in the other modules.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field
from typing import Any

ROOT_DEPT_ID = 1
STATE_VERSION = 1


def now_ms() -> int:
    return int(time.time() * 1000)


@dataclass
class Department:
    dept_id: int
    name: str
    parent_id: int  # 0 for the root, which has no parent
    order: int = 0
    source_identifier: str = ""
    create_dept_group: bool = False
    auto_add_user: bool = False
    dept_group_chat_id: str = ""
    group_contain_sub_dept: bool = False
    group_contain_outer_dept: bool = False
    group_contain_hidden_dept: bool = False
    org_dept_owner: str = ""
    dept_manager_userid_list: list[str] = field(default_factory=list)
    hide_dept: bool = False
    dept_permits: list[int] = field(default_factory=list)
    user_permits: list[str] = field(default_factory=list)
    outer_dept: bool = False
    outer_dept_only_self: bool = False
    outer_permit_depts: list[int] = field(default_factory=list)
    outer_permit_users: list[str] = field(default_factory=list)
    auto_approve_apply: bool = False
    code: str = ""
    ext: str = ""
    seq: int = 0


@dataclass
class User:
    userid: str
    unionid: str
    name: str
    mobile: str = ""
    state_code: str = "86"
    dept_id_list: list[int] = field(default_factory=list)
    # [{"dept_id": n, "order": n}] and [{"dept_id": n, "title": s}], kept in DingTalk's own list shape.
    dept_order_list: list[dict[str, Any]] = field(default_factory=list)
    dept_title_list: list[dict[str, Any]] = field(default_factory=list)
    hide_mobile: bool = False
    telephone: str = ""
    job_number: str = ""
    title: str = ""
    email: str = ""
    org_email: str = ""
    org_email_type: str = ""
    work_place: str = ""
    remark: str = ""
    manager_userid: str = ""
    avatar: str = ""
    extension: str = ""  # JSON text
    hired_date: int | None = None
    active: bool = True
    real_authed: bool = True
    senior: bool = False
    admin: bool = False
    sys_level: int = 0  # 1 main admin, 2 sub admin, 0 other (100 = boss is derived from ``boss``)
    boss: bool = False
    exclusive_account: bool = False
    exclusive_account_type: str = ""
    login_id: str = ""
    create_time: int = 0
    modify_time: int = 0
    seq: int = 0


@dataclass
class CallbackRegistration:
    call_back_tag: list[str]
    token: str
    aes_key: str
    url: str
    registered_at: int = 0


@dataclass
class App:
    appkey: str
    appsecret: str
    agentid: int | None = None
    ip_allowlist: list[str] = field(default_factory=list)  # empty = every IP allowed
    callback: CallbackRegistration | None = None
    # "legacy" = register_call_back push (signature + corpId key); "console" = HTTP 推送 (msg_signature + appKey).
    callback_style: str = "legacy"
    callback_drop_next: int = 0
    failed_events: list[dict[str, Any]] = field(default_factory=list)
    token: str = ""
    token_expires_at: float = 0.0


@dataclass
class Corp:
    corpid: str
    name: str
    apps: dict[str, App] = field(default_factory=dict)
    departments: dict[int, Department] = field(default_factory=dict)
    users: dict[str, User] = field(default_factory=dict)
    next_dept_id: int = 100000001
    next_seq: int = 1
    workrecords: list[dict[str, Any]] = field(default_factory=list)
    todos: list[dict[str, Any]] = field(default_factory=list)
    message_tasks: list[dict[str, Any]] = field(default_factory=list)

    # -- lookups used everywhere ------------------------------------------------------------------------------

    def seq(self) -> int:
        value = self.next_seq
        self.next_seq += 1
        return value

    def new_dept_id(self) -> int:
        value = self.next_dept_id
        while value in self.departments:
            value += 1
        self.next_dept_id = value + 1
        return value

    def children(self, dept_id: int) -> list[Department]:
        kids = [d for d in self.departments.values() if d.parent_id == dept_id and d.dept_id != ROOT_DEPT_ID]
        return sorted(kids, key=lambda d: (d.order, d.seq, d.dept_id))

    def subtree_ids(self, dept_id: int) -> list[int]:
        result = [dept_id]
        index = 0
        while index < len(result):
            result.extend(d.dept_id for d in self.children(result[index]))
            index += 1
        return result

    def members(self, dept_id: int) -> list[User]:
        return sorted((u for u in self.users.values() if dept_id in u.dept_id_list), key=lambda u: u.seq)

    def user_by_mobile(self, mobile: str) -> User | None:
        return next((u for u in self.users.values() if u.mobile and u.mobile == mobile), None)

    def user_by_unionid(self, unionid: str) -> User | None:
        return next((u for u in self.users.values() if u.unionid == unionid), None)

    def default_app(self) -> App:
        return next(iter(self.apps.values()))


@dataclass
class TokenInfo:
    corpid: str
    appkey: str
    expires_at: float


@dataclass
class UserToken:
    corpid: str
    appkey: str
    userid: str
    expires_at: float
    refresh_token: str = ""


@dataclass
class LoginCode:
    kind: str  # "auth" (in-app 免登), "sns" (QR tmp_auth_code), "oauth2" (authCode)
    corpid: str
    userid: str
    expires_at: float
    appkey: str = ""


@dataclass
class SimState:
    corps: dict[str, Corp] = field(default_factory=dict)
    tokens: dict[str, TokenInfo] = field(default_factory=dict)
    user_tokens: dict[str, UserToken] = field(default_factory=dict)
    refresh_tokens: dict[str, UserToken] = field(default_factory=dict)
    codes: dict[str, LoginCode] = field(default_factory=dict)
    next_task_id: int = 256271667526
    # 专属数据存储: {"buckets": {domain: {...}}, "storages": {corpid: {...}}}, see exclusive.py.
    exclusive: dict[str, Any] = field(default_factory=dict)

    def find_app(self, appkey: str) -> tuple[Corp, App] | None:
        for corp in self.corps.values():
            app = corp.apps.get(appkey)
            if app is not None:
                return corp, app
        return None

    def to_json(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        # JSON object keys are strings; departments are keyed by int in memory.
        for corp in data["corps"].values():
            corp["departments"] = list(corp["departments"].values())
            corp["users"] = list(corp["users"].values())
            corp["apps"] = list(corp["apps"].values())
        return {"version": STATE_VERSION, **data}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SimState:
        state = cls(next_task_id=int(data.get("next_task_id", 256271667526)))
        for corpid, raw in data.get("corps", {}).items():
            corp = Corp(
                corpid=corpid,
                name=raw["name"],
                next_dept_id=raw.get("next_dept_id", 100000001),
                next_seq=raw.get("next_seq", 1),
                workrecords=raw.get("workrecords", []),
                todos=raw.get("todos", []),
                message_tasks=raw.get("message_tasks", []),
            )
            for app_raw in raw.get("apps", []):
                callback = app_raw.get("callback")
                app = App(**{**app_raw, "callback": CallbackRegistration(**callback) if callback else None})
                corp.apps[app.appkey] = app
            for dept_raw in raw.get("departments", []):
                dept = Department(**dept_raw)
                corp.departments[dept.dept_id] = dept
            for user_raw in raw.get("users", []):
                user = User(**user_raw)
                corp.users[user.userid] = user
            state.corps[corpid] = corp
        state.tokens = {k: TokenInfo(**v) for k, v in data.get("tokens", {}).items()}
        state.user_tokens = {k: UserToken(**v) for k, v in data.get("user_tokens", {}).items()}
        state.refresh_tokens = {k: UserToken(**v) for k, v in data.get("refresh_tokens", {}).items()}
        state.codes = {k: LoginCode(**v) for k, v in data.get("codes", {}).items()}
        state.exclusive = data.get("exclusive", {})
        return state
