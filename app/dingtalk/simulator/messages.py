"""What apps push to people: legacy work records, v1.0 todo tasks and work notifications (工作通知)."""

from __future__ import annotations

import json
import secrets
import time
from datetime import datetime
from typing import Any

from .directory import split_ids, split_int_ids
from .errors import ApiError, V1Error
from .routing import Ctx, RouteTable, request_id
from .state import Corp, User, now_ms

routes = RouteTable()

WORKRECORDS_PER_DAY = 100
MESSAGES_PER_DAY = 500
MAX_RECEIVERS = 5000
DAY_MS = 24 * 3600 * 1000


def day_of(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000).strftime("%Y-%m-%d")


# -- work records (legacy todo) ---------------------------------------------------------------------------------


def find_record(corp: Corp, userid: str, record_id: str) -> dict[str, Any] | None:
    for record in corp.workrecords:
        if record["userid"] == userid and record_id in (record["record_id"], record.get("biz_id")):
            return record
    return None


@routes.post("/topapi/workrecord/add")
async def workrecord_add(ctx: Ctx) -> dict[str, Any]:
    corp = ctx.require_corp()
    userid = ctx.text("userid", required=True)
    if userid not in corp.users:
        raise ApiError(33012)
    title = ctx.text("title")
    url = ctx.text("url", required=True)
    forms = ctx.structured("formItemList", required=True)
    if not title or not isinstance(forms, list) or not forms or len(forms) >= 20:
        raise ApiError(400002)
    if not all(isinstance(f, dict) and "title" in f for f in forms) or len(title) > 50:
        raise ApiError(400002)
    today = day_of(now_ms())
    mine_today = [r for r in corp.workrecords if r["userid"] == userid and day_of(r["created_at"]) == today]
    content = json.dumps([title, forms], ensure_ascii=False, sort_keys=True)
    biz_id = ctx.text("biz_id")
    if any(r["content_key"] == content for r in mine_today) or (biz_id and find_record(corp, userid, biz_id)):
        raise ApiError(854001)
    if len(mine_today) >= WORKRECORDS_PER_DAY:
        raise ApiError(854002)
    record = {
        "record_id": "record" + secrets.token_hex(16),
        "userid": userid,
        "create_time": ctx.integer("create_time", default=now_ms()),
        "title": title,
        "url": url,
        "pcUrl": ctx.text("pcUrl"),
        "forms": [{"title": str(f.get("title", "")), "content": str(f.get("content", ""))} for f in forms],
        "originator_user_id": ctx.text("originator_user_id"),
        "source_name": ctx.text("source_name"),
        "pc_open_type": ctx.integer("pc_open_type"),
        "biz_id": biz_id,
        "status": 0,
        "created_at": now_ms(),
        "content_key": content,
    }
    corp.workrecords.append(record)
    return {"record_id": record["record_id"]}


@routes.post("/topapi/workrecord/update")
async def workrecord_update(ctx: Ctx) -> dict[str, Any]:
    corp = ctx.require_corp()
    userid = ctx.text("userid", required=True)
    if userid not in corp.users:
        raise ApiError(33012)
    record = find_record(corp, userid, ctx.text("record_id", required=True))
    if record is None:
        raise ApiError(400002, "待办不存在")
    record["status"] = 1
    return {"result": True}


@routes.post("/topapi/workrecord/getbyuserid")
async def workrecord_getbyuserid(ctx: Ctx) -> dict[str, Any]:
    corp = ctx.require_corp()
    userid = ctx.text("userid", required=True)
    if userid not in corp.users:
        raise ApiError(33012)
    offset = ctx.integer("offset", required=True)
    limit = ctx.integer("limit", required=True)
    status = ctx.integer("status", required=True)
    if offset is None or offset < 0:
        raise ApiError(40068)
    if limit is None or not 1 <= limit <= 50:
        raise ApiError(40069)
    if status not in (0, 1):
        raise ApiError(40035, "不合法的参数 status")
    records = [r for r in corp.workrecords if r["userid"] == userid and r["status"] == status]
    page = records[offset : offset + limit]
    items = [{k: r[k] for k in ("record_id", "create_time", "title", "url", "forms")} for r in page]
    return {"records": {"has_more": offset + limit < len(records), "list": items}}


# -- v1.0 todo --------------------------------------------------------------------------------------------------


def todo_user(ctx: Ctx, action: str) -> User:
    user = ctx.require_corp().user_by_unionid(ctx.request.match_info["unionId"])
    if user is None:
        raise V1Error(400, f"todo.{action}.paramError", "user not exist")
    return user


def find_task(ctx: Ctx, action: str) -> dict[str, Any]:
    task_id = ctx.request.match_info["taskId"]
    for task in ctx.require_corp().todos:
        if task["id"] == task_id and not task.get("deleted"):
            return task
    raise V1Error(400, f"todo.{action}.paramError", "task not exist")


def public_task(task: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in task.items() if k not in ("deleted", "ownerUnionId")}


@routes.post("/v1.0/todo/users/{unionId}/tasks")
async def todo_create(ctx: Ctx) -> dict[str, Any]:
    user = todo_user(ctx, "taskCreate")
    subject = ctx.params.get("subject")
    if not isinstance(subject, str) or not subject:
        raise V1Error(400, "todo.taskCreate.paramError", "subject is required")
    if len(subject) > 1024:
        raise V1Error(400, "todo.taskCreate.paramError", "subject is oversize")
    description = ctx.params.get("description") or ""
    if len(str(description)) > 4096:
        raise V1Error(400, "todo.taskCreate.paramError", "description is oversize")
    due = ctx.params.get("dueTime")
    if due is not None and (not isinstance(due, int) or isinstance(due, bool) or due <= 0):
        raise V1Error(400, "todo.taskCreate.paramError", "dueTime is invalid")
    corp = ctx.require_corp()
    source_id = ctx.params.get("sourceId")
    if source_id and any(t.get("sourceId") == source_id and not t.get("deleted") for t in corp.todos):
        raise V1Error(400, "todo.taskCreate.paramError", "task exist")
    now = now_ms()
    executors = ctx.params.get("executorIds") or []
    participants = ctx.params.get("participantIds") or []
    if not isinstance(executors, list) or not isinstance(participants, list):
        raise V1Error(400, "todo.taskCreate.paramError", "executorIds is invalid")
    task = {
        "id": "task" + secrets.token_hex(12),
        "subject": subject,
        "description": description,
        "startTime": now,
        "dueTime": due,
        "finishTime": None,
        "done": False,
        "executorIds": executors,
        "participantIds": participants,
        "detailUrl": ctx.params.get("detailUrl") or {},
        "source": ctx.require_app().appkey,
        "sourceId": source_id,
        "createdTime": now,
        "modifiedTime": now,
        "creatorId": ctx.params.get("creatorId") or ctx.request.query.get("operatorId") or user.unionid,
        "modifierId": ctx.params.get("creatorId") or user.unionid,
        "bizTag": "",
        "priority": ctx.params.get("priority"),
        "isOnlyShowExecutor": bool(ctx.params.get("isOnlyShowExecutor", False)),
        "notifyConfigs": ctx.params.get("notifyConfigs") or {},
        "contentFieldList": ctx.params.get("contentFieldList") or [],
        "executorStatus": {},
        "ownerUnionId": user.unionid,
    }
    corp.todos.append(task)
    return {**public_task(task), "requestId": request_id().upper()}


@routes.get("/v1.0/todo/users/{unionId}/tasks/{taskId}")
async def todo_get(ctx: Ctx) -> dict[str, Any]:
    todo_user(ctx, "taskQuery")
    return {**public_task(find_task(ctx, "taskQuery")), "requestId": request_id().upper()}


@routes.put("/v1.0/todo/users/{unionId}/tasks/{taskId}")
async def todo_update(ctx: Ctx) -> dict[str, Any]:
    user = todo_user(ctx, "taskUpdate")
    task = find_task(ctx, "taskUpdate")
    for name in ("subject", "description", "dueTime", "executorIds", "participantIds"):
        if name in ctx.params:
            task[name] = ctx.params[name]
    if "done" in ctx.params:
        task["done"] = bool(ctx.params["done"])
        task["finishTime"] = now_ms() if task["done"] else None
    task["modifiedTime"] = now_ms()
    task["modifierId"] = ctx.request.query.get("operatorId") or user.unionid
    return {"result": True, "requestId": request_id().upper()}


@routes.put("/v1.0/todo/users/{unionId}/tasks/{taskId}/executorStatus")
async def todo_executor_status(ctx: Ctx) -> dict[str, Any]:
    todo_user(ctx, "taskUpdate")
    task = find_task(ctx, "taskUpdate")
    items = ctx.params.get("executorStatusList")
    if not isinstance(items, list):
        raise V1Error(400, "todo.taskUpdate.paramError", "executorStatusList is required")
    for item in items:
        if isinstance(item, dict) and "id" in item:
            task["executorStatus"][str(item["id"])] = bool(item.get("isDone"))
    task["modifiedTime"] = now_ms()
    return {"result": True, "requestId": request_id().upper()}


@routes.delete("/v1.0/todo/users/{unionId}/tasks/{taskId}")
async def todo_delete(ctx: Ctx) -> dict[str, Any]:
    todo_user(ctx, "taskDelete")
    task = find_task(ctx, "taskDelete")
    task["deleted"] = True
    return {"result": True, "requestId": request_id().upper()}


# -- work notifications -----------------------------------------------------------------------------------------


def check_agent(ctx: Ctx) -> int:
    agent_id = ctx.integer("agent_id", required=True)
    app = ctx.require_app()
    if app.agentid is not None and agent_id != app.agentid:
        raise ApiError(40056)
    assert agent_id is not None
    return agent_id


def find_message_task(corp: Corp, agent_id: int, task_id: int | None) -> dict[str, Any]:
    for task in corp.message_tasks:
        if task["task_id"] == task_id and task["agent_id"] == agent_id and now_ms() - task["sent_at"] <= DAY_MS:
            return task
    raise ApiError(400002, "不合法的task_id")


@routes.post("/topapi/message/corpconversation/asyncsend_v2")
async def asyncsend_v2(ctx: Ctx) -> dict[str, Any]:
    corp = ctx.require_corp()
    agent_id = check_agent(ctx)
    msg = ctx.structured("msg", required=True)
    if not isinstance(msg, dict) or "msgtype" not in msg:
        raise ApiError(40035, "不合法的参数 msg")
    userids = split_ids(ctx.params.get("userid_list"), "userid_list")
    dept_ids = split_int_ids(ctx.params.get("dept_id_list"), "dept_id_list")
    to_all = ctx.flag("to_all_user", default=False)
    if not (userids or dept_ids or to_all):
        raise ApiError(40035, "缺少参数 userid_list")
    if len(userids) > 100 or len(dept_ids) > 20:
        raise ApiError(40035, "接收者数量超过限制")
    invalid_users = [u for u in userids if u not in corp.users]
    invalid_depts = [d for d in dept_ids if d not in corp.departments]
    receivers: dict[str, None] = {u: None for u in userids if u in corp.users}
    for dept_id in dept_ids:
        if dept_id in corp.departments:
            subtree = set(corp.subtree_ids(dept_id))
            receivers.update({u.userid: None for u in corp.users.values() if subtree.intersection(u.dept_id_list)})
    if to_all:
        receivers.update({u: None for u in corp.users})
    corp_state = ctx.sim.state
    task_id = corp_state.next_task_id
    corp_state.next_task_id += 1
    sent_at = now_ms()
    today = day_of(sent_at)
    content = json.dumps(msg, ensure_ascii=False, sort_keys=True)
    delivered: list[str] = []
    forbidden: list[dict[str, Any]] = []
    sent_today: dict[str, list[dict[str, Any]]] = {}
    for task in corp.message_tasks:
        if day_of(task["sent_at"]) == today and task["agent_id"] == agent_id:
            for userid in task["delivered"]:
                sent_today.setdefault(userid, []).append(task)
    for userid in list(receivers)[:MAX_RECEIVERS]:
        earlier = sent_today.get(userid, [])
        if any(t["content"] == content for t in earlier):
            forbidden.append({"code": "143106", "count": 1, "userid": userid})
        elif len(earlier) >= MESSAGES_PER_DAY:
            forbidden.append({"code": "143105", "count": 1, "userid": userid})
        else:
            delivered.append(userid)
    corp.message_tasks.append(
        {
            "task_id": task_id,
            "agent_id": agent_id,
            "msg": msg,
            "content": content,
            "sent_at": sent_at,
            "delivered": delivered,
            "forbidden": forbidden,
            "invalid_user_id_list": invalid_users,
            "invalid_dept_id_list": invalid_depts,
            "read": [],
            "recalled": False,
        }
    )
    return {"task_id": task_id}


@routes.post("/topapi/message/corpconversation/getsendresult")
async def getsendresult(ctx: Ctx) -> dict[str, Any]:
    task = find_message_task(ctx.require_corp(), check_agent(ctx), ctx.integer("task_id", required=True))
    return {
        "send_result": {
            "invalid_user_id_list": task["invalid_user_id_list"],
            "forbidden_user_id_list": [f["userid"] for f in task["forbidden"]],
            "failed_user_id_list": [],
            "read_user_id_list": task["read"],
            "unread_user_id_list": [u for u in task["delivered"] if u not in task["read"]],
            "invalid_dept_id_list": task["invalid_dept_id_list"],
            "forbidden_list": task["forbidden"],
        }
    }


@routes.post("/topapi/message/corpconversation/recall")
async def recall(ctx: Ctx) -> dict[str, Any]:
    task = find_message_task(ctx.require_corp(), check_agent(ctx), ctx.integer("msg_task_id", required=True))
    task["recalled"] = True
    task["recalled_at"] = int(time.time() * 1000)
    return {}


def user_messages(corp: Corp, userid: str) -> list[dict[str, Any]]:
    """Control API view: what a person would find in their work-notification conversation."""
    return [
        {
            "task_id": t["task_id"],
            "agent_id": t["agent_id"],
            "msg": t["msg"],
            "sent_at": t["sent_at"],
            "recalled": t["recalled"],
        }
        for t in corp.message_tasks
        if userid in t["delivered"]
    ]
