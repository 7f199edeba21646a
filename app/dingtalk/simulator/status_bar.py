"""``status_bar/update``: change the status bar of an OA work notification already sent (e.g. 待处理 -> 已处理)."""

from __future__ import annotations

from typing import Any

from .errors import ApiError
from .messages import check_agent, find_message_task
from .routing import Ctx, RouteTable

routes = RouteTable()


@routes.post("/topapi/message/corpconversation/status_bar/update")
async def status_bar_update(ctx: Ctx) -> dict[str, Any]:
    task = find_message_task(ctx.require_corp(), check_agent(ctx), ctx.integer("task_id", required=True))
    msg = task["msg"]
    if msg.get("msgtype") != "oa":
        raise ApiError(40035, "不合法的参数 task_id：只有 OA 消息有状态栏")
    value = ctx.text("status_value", required=True)
    bar = dict(msg["oa"].get("status_bar") or {})
    bar["status_value"] = value
    if ctx.text("status_bg"):
        bar["status_bg"] = ctx.text("status_bg")
    msg["oa"]["status_bar"] = bar
    return {"success": True}
