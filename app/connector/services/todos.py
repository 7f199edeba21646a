"""The EKP-compatible todo service (ekp.md 3): sendTodo, deleteTodo, setTodoDone, updateTodo, getTodo, getTodoCount.

A business system calls these exactly as it calls EKP's ``sysNotifyTodoRestService``. Each call is stored at once
and answered with ``returnState`` 2 (1 with a message on bad input); what DingTalk must see is queued as push jobs
(services/push.py), so a slow or throttled DingTalk never slows the caller and nothing is lost when it fails.

Identity: appName + modelName + modelId + key + param1 + param2. ``targets`` is ``{"Type":"v"}`` or a list of
them; ``LoginName``, ``Id`` (EKP fdId) and ``Keyword`` (login name or fdId) resolve through the person mapping,
other types (PersonNo, DeptNo ...) cannot be resolved here and become 异常信息 rows.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from app.connector.models import PersonMapping, PushJob, Todo, TodoTarget
from app.connector.services import options as options_service

RESOLVABLE = ("LoginName", "Id", "Keyword")
KNOWN_TYPES = ("Id", "PersonNo", "DeptNo", "PostNo", "GroupNo", "LoginName", "Keyword", "LdapDN")
IDENTITY_FIELDS = ("appName", "modelName", "modelId", "key", "param1", "param2")


class TodoInputError(ValueError):
    """Bad input: answered with returnState 1 and this message."""


@dataclass(frozen=True)
class Ref:
    type: str
    value: str


def _text(ctx: dict[str, Any], name: str, *, required: bool = False, limit: int = 4000) -> str:
    value = ctx.get(name)
    text = "" if value is None else str(value).strip()
    if required and not text:
        raise TodoInputError(f"{name} 不能为空")
    if len(text) > limit:
        raise TodoInputError(f"{name} 过长（最多 {limit} 个字符）")
    return text


def _int(ctx: dict[str, Any], name: str, default: int | None = None, allowed: tuple[int, ...] = ()) -> int:
    value = ctx.get(name)
    if value in (None, ""):
        if default is None:
            raise TodoInputError(f"{name} 不能为空")
        return default
    try:
        number = int(value)
    except (TypeError, ValueError) as exc:
        raise TodoInputError(f"{name} 必须是整数") from exc
    if allowed and number not in allowed:
        raise TodoInputError(f"{name} 只能是 {'、'.join(str(a) for a in allowed)}")
    return number


def parse_refs(raw: Any, name: str = "targets") -> list[Ref]:
    """``{"LoginName":"zhangsan"}`` or ``[{"PersonNo":"001"},{"Keyword":"x"}]`` (a JSON string or already parsed)."""
    if raw in (None, ""):
        raise TodoInputError(f"{name} 不能为空")
    data = raw
    if isinstance(raw, str):
        try:
            data = json.loads(raw)
        except ValueError as exc:
            raise TodoInputError(f'{name} 格式错误：应为 JSON，如 {{"LoginName":"zhangsan"}}') from exc
    items = data if isinstance(data, list) else [data]
    refs: list[Ref] = []
    for item in items:
        if not isinstance(item, dict) or not item:
            raise TodoInputError(f'{name} 格式错误：每一项应为 {{"类型":"值"}}，如 {{"LoginName":"zhangsan"}}')
        for key, value in item.items():
            if key not in KNOWN_TYPES:
                raise TodoInputError(f"{name} 中的类型 {key} 无法识别（可用：{'、'.join(KNOWN_TYPES)}）")
            text = str(value or "").strip()
            if text and Ref(key, text) not in refs:
                refs.append(Ref(key, text))
    if not refs:
        raise TodoInputError(f"{name} 不能为空")
    return refs


def identity_of(ctx: dict[str, Any]) -> tuple[dict[str, str], str]:
    values = {name: _text(ctx, name, required=name in ("modelName", "modelId"), limit=255) for name in IDENTITY_FIELDS}
    digest = hashlib.sha256("\x1f".join(values[n] for n in IDENTITY_FIELDS).encode("utf-8")).hexdigest()
    return values, digest


async def resolve(ref: Ref) -> PersonMapping | None:
    if ref.type == "LoginName":
        return await PersonMapping.filter(login_name=ref.value).first()
    if ref.type == "Id":
        return await PersonMapping.get_or_none(ekp_id=ref.value)
    if ref.type == "Keyword":
        return await PersonMapping.filter(Q(login_name=ref.value) | Q(ekp_id=ref.value)).first()
    return None


def _now() -> datetime:
    return datetime.now(UTC)


async def _queue(todo: Todo, target: TodoTarget | None, action: str, method: str, recipient: str = "") -> PushJob:
    return await PushJob.create(
        todo=todo,
        target=target,
        action=action,
        method=method,
        subject=todo.subject[:500],
        recipient=recipient or (f"{target.ref_type}:{target.ref_value}" if target else ""),
        next_attempt_at=_now(),
    )


def pushes_todo(todo: Todo, opts: options_service.Options) -> bool:
    return opts.todo_enabled and opts.push_todo and todo.type in (1, 3)


def pushes_notice(todo: Todo, opts: options_service.Options) -> bool:
    if not (opts.todo_enabled and opts.push_notify):
        return False
    return opts.push_toread if todo.type == 2 else True


def pushes_anything(todo: Todo, opts: options_service.Options) -> bool:
    return pushes_todo(todo, opts) or pushes_notice(todo, opts)


# -- the six methods -----------------------------------------------------------------------------------------------


async def send_todo(ctx: dict[str, Any], wakeup: asyncio.Event) -> str:
    values, identity = identity_of(ctx)
    subject = _text(ctx, "subject", required=True, limit=1000)
    link = _text(ctx, "link", required=True, limit=2000)
    todo_type = _int(ctx, "type", allowed=(1, 2, 3))
    level = _int(ctx, "level", default=3, allowed=(1, 2, 3))
    refs = parse_refs(ctx.get("targets"))
    create_time = _text(ctx, "createTime", limit=32) or datetime.now().strftime("%Y-%m-%d %H:%M:%S")
    creator = ""
    if ctx.get("docCreator"):
        creator_refs = parse_refs(ctx.get("docCreator"), "docCreator")
        mapped = await resolve(creator_refs[0])
        creator = (mapped.name if mapped and mapped.name else creator_refs[0].value)[:255]
    extend = ctx.get("extendContent")
    extend_text = extend if isinstance(extend, str) else json.dumps(extend or [], ensure_ascii=False)
    opts = await options_service.load()
    async with in_transaction("connector"):
        todo = await Todo.get_or_none(identity=identity)
        fields = dict(
            app_name=values["appName"],
            model_name=values["modelName"],
            model_id=values["modelId"],
            key=values["key"],
            param1=values["param1"],
            param2=values["param2"],
            subject=subject,
            link=link,
            mobile_link=_text(ctx, "mobileLink", limit=2000),
            pad_link=_text(ctx, "padLink", limit=2000),
            type=todo_type,
            level=level,
            create_time=create_time,
            creator=creator,
            extend_content=extend_text or "",
            deleted=False,
        )
        if todo is None:
            todo = await Todo.create(identity=identity, **fields)
        else:
            await todo.update_from_dict(fields).save()
        new_targets = []
        for ref in refs:
            # Inside this transaction: no savepoint of get_or_create needed.
            target = await TodoTarget.get_or_none(todo=todo, ref_type=ref.type, ref_value=ref.value)
            if target is None:
                new_targets.append(await TodoTarget.create(todo=todo, ref_type=ref.type, ref_value=ref.value))
            elif target.state != "open":
                # Sent again after done or removed (the workflow came back to them): a fresh todo and notification.
                target.state, target.notified, target.task_id, target.record_id = "open", False, "", ""
                target.notice_task_id = None
                await target.save()
                new_targets.append(target)
        if pushes_anything(todo, opts):
            for target in new_targets:
                await _queue(todo, target, "send", "sendTodo")
            if pushes_notice(todo, opts) and new_targets:
                await _queue(todo, None, "notify", "sendTodo", recipient=f"{len(new_targets)} 人")
    wakeup.set()
    return "发送成功"


async def _find(ctx: dict[str, Any]) -> Todo:
    _, identity = identity_of(ctx)
    todo = await Todo.get_or_none(identity=identity, deleted=False)
    if todo is None:
        raise TodoInputError("待办不存在：appName、modelName、modelId、key、param1、param2 须与发送时一致")
    return todo


async def _close(ctx: dict[str, Any], wakeup: asyncio.Event, *, method: str, state: str) -> str:
    todo = await _find(ctx)
    opt_type = _int(ctx, "optType", allowed=(1, 2))
    todo_type = ctx.get("type")
    if todo_type not in (None, "") and _int(ctx, "type", allowed=(1, 2, 3)) != todo.type:
        raise TodoInputError("type 与发送时的待办类型不一致")
    targets = await TodoTarget.filter(todo=todo, state="open")
    if opt_type == 2:
        refs = parse_refs(ctx.get("targets"))
        wanted = {(r.type, r.value) for r in refs}
        people = {m.ekp_id for r in refs if (m := await resolve(r)) is not None}
        targets = [t for t in targets if (t.ref_type, t.ref_value) in wanted or (t.ekp_id and t.ekp_id in people)]
        if not targets:
            raise TodoInputError("targets 中的人员不是该待办的未处理人员")
    action = "remove" if state == "removed" else "done"
    async with in_transaction("connector"):
        for target in targets:
            target.state = state
            await target.save(update_fields=["state", "updated_at"])
            await _queue(todo, target, action, method)
        if opt_type == 1 and state == "removed":
            todo.deleted = True
            await todo.save(update_fields=["deleted", "updated_at"])
    wakeup.set()
    return "删除成功" if state == "removed" else "设置成功"


async def delete_todo(ctx: dict[str, Any], wakeup: asyncio.Event) -> str:
    return await _close(ctx, wakeup, method="deleteTodo", state="removed")


async def set_todo_done(ctx: dict[str, Any], wakeup: asyncio.Event) -> str:
    return await _close(ctx, wakeup, method="setTodoDone", state="done")


async def update_todo(ctx: dict[str, Any], wakeup: asyncio.Event) -> str:
    todo = await _find(ctx)
    changed = False
    for name, column, limit in (
        ("subject", "subject", 1000),
        ("link", "link", 2000),
        ("mobileLink", "mobile_link", 2000),
        ("padLink", "pad_link", 2000),
    ):
        if ctx.get(name) not in (None, ""):
            setattr(todo, column, _text(ctx, name, limit=limit))
            changed = True
    if ctx.get("type") not in (None, ""):
        todo.type = _int(ctx, "type", allowed=(1, 2, 3))
        changed = True
    if ctx.get("level") not in (None, ""):
        todo.level = _int(ctx, "level", allowed=(1, 2, 3))
        changed = True
    if ctx.get("extendContent") not in (None, ""):
        extend = ctx["extendContent"]
        todo.extend_content = extend if isinstance(extend, str) else json.dumps(extend, ensure_ascii=False)
        changed = True
    if not changed:
        raise TodoInputError("没有需要更新的内容（subject、link、mobileLink、padLink、type、level、extendContent）")
    await todo.save()
    for target in await TodoTarget.filter(todo=todo, state="open").exclude(task_id=""):
        await _queue(todo, target, "update", "updateTodo")
    wakeup.set()
    return "更新成功"


_GET_TYPES = {0: None, 1: (1,), 2: (2,), 3: (3,), 13: (1, 3)}


async def _people_of(raw: Any, name: str) -> list[tuple[Ref, PersonMapping | None]]:
    return [(ref, await resolve(ref)) for ref in parse_refs(raw, name)]


def _target_filter(people: list[tuple[Ref, PersonMapping | None]]) -> Q:
    condition = Q(id=-1)
    for ref, mapped in people:
        condition |= Q(ref_type=ref.type, ref_value=ref.value)
        if mapped is not None:
            condition |= Q(ekp_id=mapped.ekp_id)
    return condition


async def get_todo(ctx: dict[str, Any]) -> str:
    people = await _people_of(ctx.get("targets"), "targets")
    kind = _int(ctx, "type", default=0, allowed=(-1, 0, 1, 2, 3, 4, 5, 13))
    rows = max(1, min(_int(ctx, "rowSize", default=10), 100))
    page_no = max(1, _int(ctx, "pageNo", default=1))
    query = TodoTarget.filter(_target_filter(people))
    if kind == -1:
        query = query.filter(state="done")
    elif kind == 4:
        query = query.filter(state="done", todo__type=1)
    elif kind == 5:
        query = query.filter(state="done", todo__type=2)
    else:
        query = query.filter(state="open")
        if _GET_TYPES[kind]:
            query = query.filter(todo__type__in=_GET_TYPES[kind])
    other = ctx.get("otherCond")
    if other:
        try:
            conds = json.loads(other) if isinstance(other, str) else other
        except ValueError as exc:
            raise TodoInputError('otherCond 格式错误：应为 JSON 数组，如 [{"modelId":"…"}]') from exc
        column = {"key": "key", "modelId": "model_id", "modelName": "model_name", "appName": "app_name"}
        for cond in conds if isinstance(conds, list) else [conds]:
            for name, value in (cond or {}).items():
                if name == "key" and value == "reviewmain":
                    query = query.filter(todo__model_name__icontains="review")
                elif name in column:
                    query = query.filter(**{f"todo__{column[name]}": str(value)})
    todo_ids = await query.distinct().values_list("todo_id", flat=True)
    count = len(set(todo_ids))
    if not count:
        return json.dumps({"errorPage": "true", "message": "没有符合条件的待办"}, ensure_ascii=False)
    todos = await Todo.filter(id__in=list(set(todo_ids))).order_by("-id").offset((page_no - 1) * rows).limit(rows)
    docs = [
        {
            "id": t.identity[:32],
            "subject": t.subject,
            "type": t.type,
            "key": t.key,
            "param1": t.param1,
            "param2": t.param2,
            "appName": t.app_name,
            "modelName": t.model_name,
            "moduleName": t.app_name,
            "modelId": t.model_id,
            "createTime": t.create_time,
            "creator": t.creator,
            "creatorName": t.creator,
            "level": t.level,
            "link": t.link,
            "mobileLink": t.mobile_link,
            "padLink": t.pad_link,
        }
        for t in todos
    ]
    body = {"pageCount": (count + rows - 1) // rows, "pageno": page_no, "count": count, "docs": docs}
    return json.dumps(body, ensure_ascii=False)


async def get_todo_count(ctx: dict[str, Any]) -> str:
    people = await _people_of(ctx.get("target"), "target")
    raw_types = ctx.get("types") or [{"type": 0}]
    try:
        types = json.loads(raw_types) if isinstance(raw_types, str) else raw_types
        wanted = [int(t["type"]) for t in types]
    except (ValueError, TypeError, KeyError) as exc:
        raise TodoInputError('types 格式错误：应为 [{"type":1},{"type":2}]') from exc
    result = []
    for kind in wanted:
        query = TodoTarget.filter(_target_filter(people), state="open")
        if kind not in _GET_TYPES:
            raise TodoInputError(f"types 中的 type {kind} 不支持（可用 0、1、2、3、13）")
        if _GET_TYPES[kind]:
            query = query.filter(todo__type__in=_GET_TYPES[kind])
        result.append({str(kind): len(set(await query.values_list("todo_id", flat=True)))})
    return json.dumps(result, ensure_ascii=False)


# Every handler takes the call's context and the push queue's wake-up (set once jobs are queued; the reads queue
# nothing and leave it alone).
Handler = Callable[[dict[str, Any], asyncio.Event], Awaitable[str]]
METHODS: dict[str, Handler] = {
    "sendTodo": send_todo,
    "deleteTodo": delete_todo,
    "setTodoDone": set_todo_done,
    "updateTodo": update_todo,
    "getTodo": lambda ctx, _wakeup: get_todo(ctx),
    "getTodoCount": lambda ctx, _wakeup: get_todo_count(ctx),
}


async def open_count() -> int:
    return await TodoTarget.filter(state="open").count()


def since(hours: int) -> datetime:
    return _now() - timedelta(hours=hours)
