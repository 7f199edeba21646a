"""Work records (legacy todo), v1.0 todo tasks and work notifications (``DingTalkClient.notify``)."""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from typing import Any
from urllib.parse import quote

from pydantic import AliasChoices, Field

from app.dingtalk.shapes import DingTalkModel, truthy
from app.dingtalk.transport import App, Transport

WORK_RECORD_PAGE_SIZE = 50  # documented maximum for workrecord/getbyuserid


class FormItem(DingTalkModel):
    title: str = ""
    content: str = ""


class WorkRecord(DingTalkModel):
    record_id: str
    create_time: int | None = None
    title: str | None = None
    url: str | None = None
    forms: list[FormItem] = Field(default_factory=list)


class TodoTask(DingTalkModel):
    """v1.0 todo task (field names mapped from camelCase)."""

    id: str
    subject: str | None = None
    description: str | None = None
    source_id: str | None = Field(default=None, validation_alias=AliasChoices("sourceId", "source_id"))
    due_time: int | None = Field(default=None, validation_alias=AliasChoices("dueTime", "due_time"))
    done: bool | None = None
    executor_ids: list[str] = Field(default_factory=list, validation_alias=AliasChoices("executorIds", "executor_ids"))
    participant_ids: list[str] = Field(
        default_factory=list, validation_alias=AliasChoices("participantIds", "participant_ids")
    )
    creator_id: str | None = Field(default=None, validation_alias=AliasChoices("creatorId", "creator_id"))
    created_time: int | None = Field(default=None, validation_alias=AliasChoices("createdTime", "created_time"))
    modified_time: int | None = Field(default=None, validation_alias=AliasChoices("modifiedTime", "modified_time"))
    request_id: str | None = Field(default=None, validation_alias=AliasChoices("requestId", "request_id"))


class ForbiddenItem(DingTalkModel):
    code: str | int | None = None
    count: int | None = None
    userid: str | None = None


class SendResult(DingTalkModel):
    """``getsendresult`` ``send_result``: who got, read, or was refused a work notification."""

    invalid_user_id_list: list[str] = Field(default_factory=list)
    forbidden_user_id_list: list[str] = Field(default_factory=list)
    failed_user_id_list: list[str] = Field(default_factory=list)
    read_user_id_list: list[str] = Field(default_factory=list)
    unread_user_id_list: list[str] = Field(default_factory=list)
    invalid_dept_id_list: list[int] = Field(default_factory=list)
    forbidden_list: list[ForbiddenItem] = Field(default_factory=list)


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def _camel_body(fields: Mapping[str, Any]) -> dict[str, Any]:
    """snake_case keyword arguments -> the v1.0 camelCase body; ``None`` means "not given"."""
    return {_camel(key): value for key, value in fields.items() if value is not None}


def _form_items(items: Iterable[Mapping[str, str] | tuple[str, str]]) -> list[dict[str, str]]:
    result = []
    for item in items:
        if isinstance(item, Mapping):
            result.append({"title": str(item.get("title", "")), "content": str(item.get("content", ""))})
        else:
            title, content = item
            result.append({"title": str(title), "content": str(content)})
    return result


def _csv(values: Iterable[Any] | str | None) -> str | None:
    if values is None or isinstance(values, str):
        return values
    return ",".join(str(v) for v in values)


class NotifyAPI:
    """Work records, todo and work-notification wrappers."""

    def __init__(self, transport: Transport) -> None:
        self._transport = transport

    # -- legacy work records (待办) ------------------------------------------------------------------------------

    async def add_work_record(
        self,
        app: App,
        *,
        userid: str,
        title: str,
        url: str,
        form_items: Sequence[Mapping[str, str] | tuple[str, str]],
        create_time: int | None = None,
        pc_url: str | None = None,
        originator_user_id: str | None = None,
        source_name: str | None = None,
        pc_open_type: int | None = None,
        biz_id: str | None = None,
    ) -> str:
        """Create a work record; returns ``record_id``. ``create_time`` (ms) defaults to now on DingTalk's side."""
        body: dict[str, Any] = {
            "userid": userid,
            "title": title,
            "url": url,
            "formItemList": _form_items(form_items),
        }
        optional = {
            "create_time": create_time,
            "pcUrl": pc_url,
            "originator_user_id": originator_user_id,
            "source_name": source_name,
            "pc_open_type": pc_open_type,
            "biz_id": biz_id,
        }
        body.update({k: v for k, v in optional.items() if v is not None})
        if "create_time" not in body:
            body["create_time"] = int(time.time() * 1000)
        data = await self._transport.oapi(app, "/topapi/workrecord/add", body)
        return str(data["record_id"])

    async def update_work_record(self, app: App, userid: str, record_id: str) -> bool:
        """Mark a work record done; ``record_id`` may also be the ``biz_id`` given on creation."""
        data = await self._transport.oapi(app, "/topapi/workrecord/update", {"userid": userid, "record_id": record_id})
        return truthy(data.get("result", True))

    async def list_work_records(
        self, app: App, userid: str, *, status: int = 0, page_size: int = WORK_RECORD_PAGE_SIZE
    ) -> list[WorkRecord]:
        """All of a user's work records with ``status`` (0 open, 1 done), following ``has_more``."""
        records: list[WorkRecord] = []
        offset = 0
        while True:
            body = {"userid": userid, "offset": offset, "limit": page_size, "status": status}
            data = await self._transport.oapi(app, "/topapi/workrecord/getbyuserid", body)
            page = data.get("records") or data.get("result") or {}
            items = page.get("list") or []
            records.extend(WorkRecord.model_validate(item) for item in items)
            if not items or not truthy(page.get("has_more")):
                return records
            offset += len(items)

    # -- v1.0 todo ---------------------------------------------------------------------------------------------------

    async def create_todo(
        self,
        app: App,
        union_id: str,
        *,
        subject: str,
        operator_id: str | None = None,
        source_id: str | None = None,
        description: str | None = None,
        due_time: int | None = None,
        executor_ids: Sequence[str] | None = None,
        participant_ids: Sequence[str] | None = None,
        detail_url: Mapping[str, str] | None = None,
        **fields: Any,
    ) -> TodoTask:
        """Create a todo task owned by ``union_id``; ``fields`` are further body fields in snake_case
        (``priority``, ``is_only_show_executor``, ``notify_configs`` ...). A repeated ``source_id`` fails with
        ``todo.taskCreate.paramError`` / ``task exist``."""
        body = _camel_body(
            {
                "subject": subject,
                "source_id": source_id,
                "description": description,
                "due_time": due_time,
                "executor_ids": list(executor_ids) if executor_ids is not None else None,
                "participant_ids": list(participant_ids) if participant_ids is not None else None,
                "detail_url": detail_url,
                **fields,
            }
        )
        data = await self._transport.api(
            app,
            "POST",
            f"/v1.0/todo/users/{quote(union_id, safe='')}/tasks",
            json_body=body,
            params={"operatorId": operator_id or union_id},
            limit_key="/v1.0/todo/users/{unionId}/tasks",
        )
        return TodoTask.model_validate(data)

    async def update_todo(
        self, app: App, union_id: str, task_id: str, *, operator_id: str | None = None, **fields: Any
    ) -> bool:
        """Update fields of a task (snake_case: ``subject``, ``description``, ``due_time``, ``done``,
        ``executor_ids``, ``participant_ids``)."""
        data = await self._transport.api(
            app,
            "PUT",
            f"/v1.0/todo/users/{quote(union_id, safe='')}/tasks/{quote(task_id, safe='')}",
            json_body=_camel_body(fields),
            params={"operatorId": operator_id or union_id},
            limit_key="/v1.0/todo/users/{unionId}/tasks/{taskId}",
        )
        return truthy(data.get("result", True))

    async def delete_todo(self, app: App, union_id: str, task_id: str, *, operator_id: str | None = None) -> bool:
        data = await self._transport.api(
            app,
            "DELETE",
            f"/v1.0/todo/users/{quote(union_id, safe='')}/tasks/{quote(task_id, safe='')}",
            params={"operatorId": operator_id or union_id},
            limit_key="/v1.0/todo/users/{unionId}/tasks/{taskId}",
        )
        return truthy(data.get("result", True))

    # -- work notifications (工作通知) --------------------------------------------------------------------------------

    async def send_work_notification(
        self,
        app: App,
        msg: Mapping[str, Any],
        *,
        userid_list: Iterable[str] | str | None = None,
        dept_id_list: Iterable[int] | str | None = None,
        to_all_user: bool = False,
    ) -> int:
        """Send asynchronously (``asyncsend_v2``); returns ``task_id``. Success here is not delivery: check
        ``get_send_result`` for recipients refused by DingTalk's limits."""
        if app.agent_id is None:
            raise ValueError("sending a work notification needs the app's agent_id")
        users = _csv(userid_list)
        depts = _csv(dept_id_list)
        if not to_all_user and not users and not depts:
            raise ValueError("give userid_list, dept_id_list or to_all_user=True")
        body: dict[str, Any] = {"agent_id": app.agent_id, "msg": dict(msg), "to_all_user": to_all_user}
        if users:
            body["userid_list"] = users
        if depts:
            body["dept_id_list"] = depts
        data = await self._transport.oapi(app, "/topapi/message/corpconversation/asyncsend_v2", body)
        return int(data["task_id"])

    async def get_send_result(self, app: App, task_id: int) -> SendResult:
        if app.agent_id is None:
            raise ValueError("reading a send result needs the app's agent_id")
        data = await self._transport.oapi(
            app, "/topapi/message/corpconversation/getsendresult", {"agent_id": app.agent_id, "task_id": task_id}
        )
        return SendResult.model_validate(data.get("send_result") or {})

    async def recall_work_notification(self, app: App, task_id: int) -> None:
        """Recall a work notification sent within the last 24 hours."""
        if app.agent_id is None:
            raise ValueError("recalling a work notification needs the app's agent_id")
        await self._transport.oapi(
            app, "/topapi/message/corpconversation/recall", {"agent_id": app.agent_id, "msg_task_id": task_id}
        )

    async def update_status_bar(self, app: App, task_id: int, status_value: str, status_bg: str | None = None) -> None:
        """Change the status bar of an OA work notification already sent (e.g. 待处理 -> 已处理)."""
        if app.agent_id is None:
            raise ValueError("updating a status bar needs the app's agent_id")
        body: dict[str, Any] = {"agent_id": app.agent_id, "task_id": task_id, "status_value": status_value}
        if status_bg:
            body["status_bg"] = status_bg
        await self._transport.oapi(app, "/topapi/message/corpconversation/status_bar/update", body)
