"""How an EKP todo looks in DingTalk: title prefixes and truncation as EKP's component does (ekp.md 4.4), the
v1.0 todo body, the legacy work record body and the OA work notification with its coloured title bar."""

from __future__ import annotations

import json
from typing import Any

from app.connector.models import Todo

TYPE_NAMES = {1: "待办", 2: "待阅", 3: "暂挂"}
DEFAULT_COLOUR = "FF1E6FD9"
STATUS_OPEN = ("待处理", "0xFFF65E5E")
STATUS_DONE = ("已处理", "0xFF78C06E")
PRIORITY = {1: 40, 2: 30, 3: 20}  # 紧急 / 急 / 一般 -> v1.0 priority


def title(todo: Todo) -> str:
    """【紧急】/【急】 by level, 【暂挂】 for type 3 (EKP's order: level first)."""
    prefix = {1: "【紧急】", 2: "【急】"}.get(todo.level, "")
    if todo.type == 3:
        prefix += "【暂挂】"
    return prefix + todo.subject


def work_record_title(todo: Todo) -> str:
    """Work records allow 50 characters: EKP cuts to 45 + '...' from 50 up."""
    text = title(todo)
    return text[:45] + "..." if len(text) >= 50 else text


def extend_items(todo: Todo) -> list[dict[str, str]]:
    """``extendContent`` ([{"key","titleMsgKey","value"}...]) as title/content pairs; unusable input is ignored."""
    try:
        items = json.loads(todo.extend_content) if todo.extend_content else []
    except ValueError:
        return []
    pairs = []
    for item in items if isinstance(items, list) else []:
        if isinstance(item, dict) and item.get("value") not in (None, ""):
            name = str(item.get("titleMsgKey") or item.get("title") or item.get("key") or "")
            pairs.append({"title": name, "content": str(item["value"])})
    return pairs[:6]


def form_items(todo: Todo) -> list[dict[str, str]]:
    items = [{"title": "标题", "content": todo.subject[:200]}]
    if todo.creator:
        items.append({"title": "创建人", "content": todo.creator})
    items.append({"title": "创建时间", "content": todo.create_time})
    return items + extend_items(todo)


def todo_body(todo: Todo, union_id: str, source_id: str) -> dict[str, Any]:
    return {
        "subject": title(todo)[:1024],
        "source_id": source_id,
        "description": "\n".join(f"{i['title']}：{i['content']}" for i in extend_items(todo))[:4096] or None,
        "executor_ids": [union_id],
        "detail_url": {"appUrl": todo.mobile_link or todo.link, "pcUrl": todo.link},
        "is_only_show_executor": True,
        "priority": PRIORITY.get(todo.level, 20),
        "notify_configs": {"dingNotify": "1"},
    }


def notification(todo: Todo, colour: str) -> dict[str, Any]:
    form = [{"key": "类型：", "value": TYPE_NAMES.get(todo.type, "待办")}, {"key": "时间：", "value": todo.create_time}]
    form += [{"key": f"{i['title']}：", "value": i["content"]} for i in extend_items(todo)][:4]
    status_value, status_bg = STATUS_OPEN
    oa: dict[str, Any] = {
        "message_url": todo.mobile_link or todo.link,
        "pc_message_url": todo.link,
        "head": {"bgcolor": colour or DEFAULT_COLOUR, "text": TYPE_NAMES.get(todo.type, "待办")},
        "body": {"title": title(todo)[:200], "form": form, "author": todo.creator or todo.app_name or "EKP"},
    }
    if todo.type != 2:
        oa["status_bar"] = {"status_value": status_value, "status_bg": status_bg}
    return {"msgtype": "oa", "oa": oa}
