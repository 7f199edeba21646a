"""Contacts wrappers: departments, users and callback management (``DingTalkClient.contacts``).

Only request building and result parsing live here; every request goes through the ``Transport`` it is given.
Result models keep DingTalk's own field names (snake_case, as the topapi v2 endpoints return them) and allow extra
fields, so nothing DingTalk adds later is silently dropped.

Write helpers accept Python lists for the fields DingTalk wants as comma-separated strings on write
(``dept_id_list``, ``dept_permits``, ...), and skip ``None`` values so "not given" means "leave unchanged".
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Iterable, Mapping
from typing import Any, TypeVar

from pydantic import AliasChoices, Field, field_validator

from app.dingtalk.errors import DingTalkAPIError, DingTalkTransportError
from app.dingtalk.events import DingTalkEvent, parse_failed_item
from app.dingtalk.shapes import DingTalkModel, truthy
from app.dingtalk.transport import App, Transport

T = TypeVar("T")

# Fields written as comma-separated strings although they are lists on read.
_CSV_FIELDS = frozenset(
    {
        "dept_id_list",
        "dept_permits",
        "user_permits",
        "outer_permit_users",
        "outer_permit_depts",
        "dept_manager_userid_list",
    }
)
USER_PAGE_SIZE = 100  # documented maximum for v2/user/list (legacy listbypage); larger sizes get 40035


def _split_list(value: Any) -> Any:
    # Reads return arrays, but tolerate the comma/pipe strings of the write side and of legacy endpoints.
    if isinstance(value, str):
        return [part for part in value.replace("|", ",").split(",") if part.strip()]
    return [] if value is None else value


# -- departments ---------------------------------------------------------------------------------------------------


class DeptBrief(DingTalkModel):
    """An item of ``topapi/v2/department/listsub``."""

    dept_id: int
    name: str = ""
    parent_id: int | None = None
    create_dept_group: bool | None = None
    auto_add_user: bool | None = None


class DeptDetail(DeptBrief):
    """``topapi/v2/department/get`` result."""

    order: int | None = None
    source_identifier: str | None = None
    dept_group_chat_id: str | None = None
    group_contain_sub_dept: bool | None = None
    org_dept_owner: str | None = None
    dept_manager_userid_list: list[str] = Field(default_factory=list)
    hide_dept: bool | None = None
    dept_permits: list[int] = Field(default_factory=list)
    user_permits: list[str] = Field(default_factory=list)
    outer_dept: bool | None = None
    outer_dept_only_self: bool | None = None
    outer_permit_depts: list[int] = Field(default_factory=list)
    outer_permit_users: list[str] = Field(default_factory=list)
    auto_approve_apply: bool | None = None
    code: str | None = None
    member_count: int | None = None

    @field_validator(
        "dept_manager_userid_list",
        "dept_permits",
        "user_permits",
        "outer_permit_depts",
        "outer_permit_users",
        mode="before",
    )
    @classmethod
    def _lists(cls, value: Any) -> Any:
        return _split_list(value)


# -- users -----------------------------------------------------------------------------------------------------------


class DeptOrder(DingTalkModel):
    dept_id: int
    order: int | None = None


class LeaderInDept(DingTalkModel):
    dept_id: int
    leader: bool = False


class Role(DingTalkModel):
    id: int | None = None
    name: str | None = None
    group_name: str | None = None


class User(DingTalkModel):
    """``topapi/v2/user/get`` result or a ``topapi/v2/user/list`` item (the latter has ``dept_order``/``leader``
    instead of the per-department arrays). Absent-when-empty fields default to ``None``/empty."""

    userid: str
    unionid: str | None = Field(default=None, validation_alias=AliasChoices("unionid", "unionId"))
    name: str = ""
    avatar: str | None = None
    state_code: str | None = None
    mobile: str | None = None
    hide_mobile: bool | None = None
    telephone: str | None = None
    job_number: str | None = None
    title: str | None = None
    email: str | None = None
    org_email: str | None = None
    work_place: str | None = None
    remark: str | None = None
    manager_userid: str | None = None
    dept_id_list: list[int] = Field(default_factory=list)
    dept_order_list: list[DeptOrder] = Field(default_factory=list)
    extension: str | None = None
    hired_date: int | None = None
    active: bool | None = None
    real_authed: bool | None = None
    senior: bool | None = None
    admin: bool | None = None
    boss: bool | None = None
    leader_in_dept: list[LeaderInDept] = Field(default_factory=list)
    role_list: list[Role] = Field(default_factory=list)
    exclusive_account: bool | None = None
    exclusive_account_type: str | None = None
    login_id: str | None = None
    dept_order: int | None = None  # list items only
    leader: bool | None = None  # list items only

    @field_validator("dept_id_list", mode="before")
    @classmethod
    def _dept_ids(cls, value: Any) -> Any:
        return _split_list(value)

    @field_validator("extension", mode="before")
    @classmethod
    def _extension_text(cls, value: Any) -> Any:
        # Documented as JSON text; keep it text even if a server hands back the decoded object.
        return json.dumps(value, ensure_ascii=False) if isinstance(value, Mapping) else value


class CreatedUser(DingTalkModel):
    userid: str
    unionid: str | None = Field(default=None, validation_alias=AliasChoices("unionId", "unionid"))


class UnionIdUser(DingTalkModel):
    """``topapi/user/getbyunionid``: ``contact_type`` 0 = employee, 1 = external contact."""

    userid: str
    contact_type: int | None = None


class AdminInfo(DingTalkModel):
    """``topapi/user/listadmin`` item: ``sys_level`` 1 = main admin, 2 = sub admin."""

    userid: str
    sys_level: int | None = None


# -- callbacks -------------------------------------------------------------------------------------------------------


class CallbackConfig(DingTalkModel):
    call_back_tag: list[str] = Field(default_factory=list)
    url: str | None = None
    token: str | None = Field(default=None, repr=False)
    aes_key: str | None = Field(default=None, repr=False)


# -- helpers -----------------------------------------------------------------------------------------------------------


def _write_body(fields: Mapping[str, Any]) -> dict[str, Any]:
    """Drop ``None``; join list fields that DingTalk expects as CSV; serialise an ``extension`` mapping."""
    body: dict[str, Any] = {}
    for key, value in fields.items():
        if value is None:
            continue
        if key in _CSV_FIELDS and isinstance(value, list | tuple | set | frozenset):
            value = ",".join(str(v) for v in value)
        elif key == "extension" and isinstance(value, Mapping):
            value = json.dumps(value, ensure_ascii=False)
        body[key] = value
    return body


def _result(data: Mapping[str, Any]) -> Any:
    return data.get("result")


async def _gather_all(aws: Iterable[Awaitable[T]]) -> list[T]:
    """Like ``asyncio.gather`` but cancels the siblings when one fails, and raises the original exception."""
    tasks = [asyncio.ensure_future(aw) for aw in aws]
    try:
        return list(await asyncio.gather(*tasks))
    except BaseException:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise


class ContactsAPI:
    """Department, user and callback-management wrappers."""

    def __init__(self, transport: Transport) -> None:
        self._transport = transport

    # -- departments -------------------------------------------------------------------------------------------

    async def list_sub_departments(self, app: App, dept_id: int = 1, *, language: str | None = None) -> list[DeptBrief]:
        """Direct child departments of ``dept_id`` (``topapi/v2/department/listsub``)."""
        data = await self._transport.oapi(
            app, "/topapi/v2/department/listsub", _write_body({"dept_id": dept_id, "language": language})
        )
        return [DeptBrief.model_validate(item) for item in _result(data) or []]

    async def list_sub_department_ids(self, app: App, dept_id: int = 1) -> list[int]:
        """Ids of the direct child departments (``topapi/v2/department/listsubid``)."""
        data = await self._transport.oapi(app, "/topapi/v2/department/listsubid", {"dept_id": dept_id})
        return [int(x) for x in (_result(data) or {}).get("dept_id_list") or []]

    async def get_department(self, app: App, dept_id: int, *, language: str | None = None) -> DeptDetail:
        data = await self._transport.oapi(
            app, "/topapi/v2/department/get", _write_body({"dept_id": dept_id, "language": language})
        )
        return DeptDetail.model_validate(_result(data) or {})

    async def create_department(self, app: App, name: str, parent_id: int = 1, **fields: Any) -> int:
        """Create a department; ``fields`` are the v2 create fields (``order``, ``source_identifier``,
        ``create_dept_group``, ``hide_dept``, ``dept_permits`` ...). Returns the new ``dept_id``."""
        body = _write_body({"name": name, "parent_id": parent_id, **fields})
        data = await self._transport.oapi(app, "/topapi/v2/department/create", body)
        return int((_result(data) or {})["dept_id"])

    async def update_department(self, app: App, dept_id: int, **fields: Any) -> None:
        """Update the given fields only (omitted fields stay unchanged)."""
        await self._transport.oapi(app, "/topapi/v2/department/update", _write_body({"dept_id": dept_id, **fields}))

    async def delete_department(self, app: App, dept_id: int) -> None:
        await self._transport.oapi(app, "/topapi/v2/department/delete", {"dept_id": dept_id})

    async def iter_department_tree(
        self,
        app: App,
        root_id: int = 1,
        *,
        include_root: bool = False,
        concurrency: int = 4,
        language: str | None = None,
    ) -> AsyncIterator[DeptBrief]:
        """Every department below ``root_id``, breadth-first (parents always before their children).

        DingTalk has no "all departments" endpoint, so this walks ``listsub`` level by level, fetching up to
        ``concurrency`` siblings at a time (the rate limiter still applies).
        """
        if include_root:
            root = await self.get_department(app, root_id, language=language)
            yield DeptBrief.model_validate(root.model_dump())
        seen = {root_id}
        level = [root_id]
        while level:
            next_level: list[int] = []
            for start in range(0, len(level), max(1, concurrency)):
                chunk = level[start : start + max(1, concurrency)]
                results = await _gather_all(self.list_sub_departments(app, d, language=language) for d in chunk)
                for children in results:
                    for child in children:
                        if child.dept_id in seen:
                            continue  # defensive: a cycle in bad data must not loop forever
                        seen.add(child.dept_id)
                        next_level.append(child.dept_id)
                        yield child
            level = next_level

    async def list_all_departments(self, app: App, root_id: int = 1, *, include_root: bool = False) -> list[DeptBrief]:
        return [d async for d in self.iter_department_tree(app, root_id, include_root=include_root)]

    # -- users ----------------------------------------------------------------------------------------------------

    async def get_user(self, app: App, userid: str, *, language: str | None = None) -> User:
        data = await self._transport.oapi(
            app, "/topapi/v2/user/get", _write_body({"userid": userid, "language": language})
        )
        return User.model_validate(_result(data) or {})

    async def iter_dept_users(
        self,
        app: App,
        dept_id: int,
        *,
        page_size: int = USER_PAGE_SIZE,
        order_field: str | None = None,
        contain_access_limit: bool | None = None,
        language: str | None = None,
    ) -> AsyncIterator[User]:
        """Direct members of ``dept_id`` (``topapi/v2/user/list``), following ``next_cursor`` until
        ``has_more`` is false, so no member is lost at a page boundary."""
        cursor: int = 0
        while True:
            body = _write_body(
                {
                    "dept_id": dept_id,
                    "cursor": cursor,
                    "size": page_size,
                    "order_field": order_field,
                    "contain_access_limit": contain_access_limit,
                    "language": language,
                }
            )
            data = await self._transport.oapi(app, "/topapi/v2/user/list", body)
            result = _result(data) or {}
            for item in result.get("list") or []:
                yield User.model_validate(item)
            if not truthy(result.get("has_more")):
                return
            next_cursor = result.get("next_cursor")
            if next_cursor is None or int(next_cursor) == cursor:
                raise DingTalkTransportError(
                    f"user list of dept {dept_id} reports has_more without an advancing next_cursor ({next_cursor})"
                )
            cursor = int(next_cursor)

    async def list_dept_users(self, app: App, dept_id: int, **options: Any) -> list[User]:
        return [u async for u in self.iter_dept_users(app, dept_id, **options)]

    async def list_dept_user_ids(self, app: App, dept_id: int) -> list[str]:
        """Userids of the direct members (``topapi/user/listid``)."""
        data = await self._transport.oapi(app, "/topapi/user/listid", {"dept_id": dept_id})
        return [str(x) for x in (_result(data) or {}).get("userid_list") or []]

    async def create_user(
        self,
        app: App,
        *,
        name: str,
        mobile: str | None,
        dept_id_list: Iterable[int],
        userid: str | None = None,
        **fields: Any,
    ) -> CreatedUser:
        """Create a user (``topapi/v2/user/create``); ``fields`` are the v2 create fields (``title``, ``email``,
        ``job_number``, ``hide_mobile``, ``senior_mode``, ``extension`` (mapping or JSON text) ...)."""
        body = _write_body(
            {"userid": userid, "name": name, "mobile": mobile, "dept_id_list": list(dept_id_list), **fields}
        )
        data = await self._transport.oapi(app, "/topapi/v2/user/create", body)
        return CreatedUser.model_validate(_result(data) or {})

    async def update_user(self, app: App, userid: str, **fields: Any) -> None:
        """Update the given fields only. ``mobile`` cannot be changed through the API (DingTalk answers 40022)."""
        await self._transport.oapi(app, "/topapi/v2/user/update", _write_body({"userid": userid, **fields}))

    async def delete_user(self, app: App, userid: str) -> None:
        await self._transport.oapi(app, "/topapi/v2/user/delete", {"userid": userid})

    async def get_userid_by_mobile(self, app: App, mobile: str) -> str:
        data = await self._transport.oapi(app, "/topapi/v2/user/getbymobile", {"mobile": mobile})
        return str((_result(data) or {})["userid"])

    async def get_user_by_unionid(self, app: App, unionid: str) -> UnionIdUser:
        data = await self._transport.oapi(app, "/topapi/user/getbyunionid", {"unionid": unionid})
        return UnionIdUser.model_validate(_result(data) or {})

    async def list_admins(self, app: App) -> list[AdminInfo]:
        """Main and sub administrators of the org (``topapi/user/listadmin``)."""
        data = await self._transport.oapi(app, "/topapi/user/listadmin", {})
        return [AdminInfo.model_validate(item) for item in _result(data) or []]

    # -- callback management (legacy register_call_back API) ---------------------------------------------------------

    async def register_callback(self, app: App, *, url: str, token: str, aes_key: str, tags: Iterable[str]) -> None:
        """Register the callback URL; DingTalk synchronously POSTs ``check_url`` to it and needs ``success``."""
        body = {"call_back_tag": list(tags), "token": token, "aes_key": aes_key, "url": url}
        await self._transport.oapi(app, "/call_back/register_call_back", body)

    async def update_callback(self, app: App, *, url: str, token: str, aes_key: str, tags: Iterable[str]) -> None:
        body = {"call_back_tag": list(tags), "token": token, "aes_key": aes_key, "url": url}
        await self._transport.oapi(app, "/call_back/update_call_back", body)

    async def register_or_update_callback(
        self, app: App, *, url: str, token: str, aes_key: str, tags: Iterable[str]
    ) -> None:
        """Register, or update when one is already registered (71006): one URL per app."""
        tag_list = list(tags)
        try:
            await self.register_callback(app, url=url, token=token, aes_key=aes_key, tags=tag_list)
        except DingTalkAPIError as exc:
            if exc.effective_code != 71006:
                raise
            await self.update_callback(app, url=url, token=token, aes_key=aes_key, tags=tag_list)

    async def get_callback(self, app: App) -> CallbackConfig:
        data = await self._transport.oapi(app, "/call_back/get_call_back", method="GET")
        return CallbackConfig.model_validate(data)

    async def delete_callback(self, app: App) -> None:
        await self._transport.oapi(app, "/call_back/delete_call_back", method="GET")

    async def get_callback_failed_events(self, app: App) -> list[DingTalkEvent]:
        """All parked (failed) callback events, following ``has_more``.

        DingTalk deletes what it returns, so persist the result before processing it; items of unexpected shape
        come back as ``EventKind.UNKNOWN`` with their ``raw`` rather than being dropped.
        """
        events: list[DingTalkEvent] = []
        while True:
            data = await self._transport.oapi(app, "/call_back/get_call_back_failed_result", method="GET")
            page = [item for item in data.get("failed_list") or [] if isinstance(item, Mapping)]
            events.extend(parse_failed_item(item) for item in page)
            # An empty page with has_more would otherwise loop forever.
            if not page or not truthy(data.get("has_more")):
                return events
