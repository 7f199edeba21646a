"""``/api/sys-notify/sysNotifyTodoRestService/{method}``: EKP's todo REST service, answered the way EKP answers.

POST JSON (the method's context), HTTP Basic; the answer is ``{"returnState": 2, "message": ...}`` on success and
``{"returnState": 1, "message": <why>}`` on bad input (HTTP 200, as EKP does), 401 without valid credentials.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from app.connector.api.auth import authorised
from app.connector.api.running import connector_runtime
from app.connector.runtime import ConnectorRuntime
from app.connector.services import interface_log, todos

log = logging.getLogger(__name__)

router = APIRouter(prefix="/api/sys-notify/sysNotifyTodoRestService", tags=["待办服务（兼容 EKP）"])

NAMES = {
    "sendTodo": "接收待办",
    "deleteTodo": "接收删除待办",
    "setTodoDone": "接收待办置为已办",
    "updateTodo": "接收更新待办",
    "getTodo": "查询待办",
    "getTodoCount": "查询待办数",
}


@router.post(
    "/{method}", summary="EKP 待办服务（sendTodo、deleteTodo、setTodoDone、updateTodo、getTodo、getTodoCount）"
)
async def call(method: str, request: Request, rt: ConnectorRuntime = Depends(connector_runtime)) -> JSONResponse:
    if not await authorised(request):
        return JSONResponse(
            {"returnState": 1, "message": "认证失败：需要待办接口认证账号和密码（HTTP Basic）"},
            status_code=401,
            headers={"WWW-Authenticate": 'Basic realm="LanDing Connector"'},
        )
    handler = todos.METHODS.get(method)
    if handler is None:
        return JSONResponse({"returnState": 1, "message": f"不支持的方法 {method}"}, status_code=404)
    sent = datetime.now(UTC)
    raw = await request.body()
    try:
        context = json.loads(raw) if raw.strip() else {}
        if isinstance(context, dict) and isinstance(context.get("arg0"), dict):
            context = context["arg0"]  # the SOAP-style wrapper some clients keep
        if not isinstance(context, dict):
            raise todos.TodoInputError("请求体应为 JSON 对象")
        message = await handler(context, rt.push_wakeup)
        answer = {"returnState": 2, "message": message}
    except json.JSONDecodeError:
        answer = {"returnState": 1, "message": "请求体不是合法的 JSON"}
    except todos.TodoInputError as exc:
        answer = {"returnState": 1, "message": str(exc)}
    except Exception:
        log.exception("todo API %s failed", method)
        answer = {"returnState": 1, "message": "服务器内部错误，请稍后重试"}
    await interface_log.record(
        "待办", NAMES.get(method, method), raw, answer, ok=answer["returnState"] == 2, sent_at=sent
    )
    return JSONResponse(answer)
