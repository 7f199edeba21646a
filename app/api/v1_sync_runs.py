"""Contacts sync runs for automation: ``/api/v1/orgs/{org_id}/sync-runs`` with a personal API token.

``Authorization: Bearer <token>`` (created on 权限管理 > 管理员). The token acts as its owner does now: the owner's
roles and orgs are re-read on every call. Answers: 200/202 with the run, 400 bad input, 401 no/unknown/revoked token
(``WWW-Authenticate: Bearer``), 403 outside the owner's permissions or orgs, 404 unknown org or run, 409 a run of
the org is already going (同步正在进行中). Errors are ``{"errcode": <status*100+n>, "errmsg": "..."}``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, Field

from app.api import openapi_examples
from app.api.running import console_runtime
from app.runtime import Runtime
from app.services import api_tokens, sync_runs_remote
from app.services.errors import NotFound, PermissionDenied, ServiceError
from app.services.permissions import Actor

log = logging.getLogger(__name__)

_STATUS = (
    (api_tokens.InvalidToken, 401),
    (PermissionDenied, 403),
    (NotFound, 404),
    (sync_runs_remote.RunBusy, 409),
    (ServiceError, 400),
)


def _answer(status: int, message: str) -> JSONResponse:
    headers = {"WWW-Authenticate": 'Bearer realm="LanDing"'} if status == 401 else None
    return JSONResponse({"errcode": status * 100 + 1, "errmsg": message}, status_code=status, headers=headers)


class _TokenApiRoute(APIRoute):
    """Service errors become the documented status codes with a Chinese ``errmsg``; nothing leaks as HTML."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def guarded(request: Request) -> Response:
            try:
                return await handler(request)
            except ServiceError as exc:
                status = next(code for kind, code in _STATUS if isinstance(exc, kind))
                return _answer(status, exc.message)
            except RequestValidationError as exc:
                first = exc.errors()[0] if exc.errors() else {}
                where = ".".join(str(p) for p in first.get("loc", ()) if p != "body")
                return _answer(400, f"请求格式错误：{where} {first.get('msg', '')}".strip())
            except Exception:
                log.exception("sync-runs API %s failed", request.url.path)
                return _answer(500, "服务器内部错误，请稍后重试")

        return guarded


bearer = HTTPBearer(
    scheme_name="LanDingApiToken",
    description="个人 API 令牌（权限管理 > 管理员 > API 令牌 中新建），按令牌所属管理员当前的角色和组织授权",
    auto_error=False,
)


async def token_actor(request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(bearer)) -> Actor:
    if credentials is None:
        raise api_tokens.InvalidToken("需要 API 令牌：Authorization: Bearer <token>")
    ip = request.client.host if request.client else ""
    return await api_tokens.authenticate(credentials.credentials, ip=ip)


# ---------------------------------------------------------------------------------------------------------------


class ErrorAnswer(BaseModel):
    errcode: int = Field(description="HTTP 状态码 × 100 + 序号", examples=[40901])
    errmsg: str = Field(examples=["同步正在进行中"])


class StartRequest(BaseModel):
    full: bool = Field(default=False, description="true：全量同步（重新读取整个源系统并与钉钉比对）；false：增量同步")

    model_config = {"json_schema_extra": {"examples": [{"full": False}]}}


class SyncRunAnswer(BaseModel):
    id: int = Field(description="同步日志ID")
    orgId: int  # noqa: N815 - the wire name
    trigger: str = Field(description="自动同步 / 手动同步")
    kind: str = Field(description="增量 / 全量")
    full: bool
    result: str = Field(description="running / success / warning / failed")
    resultLabel: str = Field(description="进行中 / 成功 / 警告 / 失败")  # noqa: N815
    stage: str = Field(description="当前阶段，如 从EKP同步、同步到钉钉、已结束")
    startedAt: datetime  # noqa: N815
    endedAt: datetime | None  # noqa: N815
    progressDone: int  # noqa: N815
    progressTotal: int  # noqa: N815
    summary: str = Field(description="与同步日志页相同的同步概要")
    error: str = Field(description="失败原因（结果为失败时）")
    thresholdBlocked: bool = Field(description="是否因超过删除记录阈值而未删除")  # noqa: N815
    counters: dict[str, Any] = Field(description="各阶段计数，如 source.person.added")

    model_config = {"json_schema_extra": {"examples": [openapi_examples.RUN]}}  # the one example of a run


class SyncRunPage(BaseModel):
    items: list[SyncRunAnswer]
    total: int
    page: int
    pageSize: int  # noqa: N815


def _run(detail: sync_runs_remote.RunDetail) -> dict[str, Any]:
    return {
        "id": detail.id,
        "orgId": detail.org_id,
        "trigger": detail.trigger,
        "kind": detail.kind,
        "full": detail.full,
        "result": detail.result,
        "resultLabel": detail.result_label,
        "stage": detail.stage,
        "startedAt": detail.started_at,
        "endedAt": detail.ended_at,
        "progressDone": detail.progress_done,
        "progressTotal": detail.progress_total,
        "summary": detail.summary,
        "error": detail.error,
        "thresholdBlocked": detail.threshold_blocked,
        "counters": detail.counters,
    }


_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorAnswer, "description": "请求格式错误"},
    401: {"model": ErrorAnswer, "description": "缺少令牌、令牌无效或已撤销（带 WWW-Authenticate: Bearer）"},
    403: {"model": ErrorAnswer, "description": "令牌所属管理员无此组织的权限"},
    404: {"model": ErrorAnswer, "description": "组织或同步日志不存在"},
}

router = APIRouter(prefix="/api/v1/orgs/{org_id}/sync-runs", tags=["通讯录同步"], route_class=_TokenApiRoute)


@router.post(
    "",
    status_code=202,
    summary="启动一次通讯录同步",
    description=(
        "与「通讯录 > 同步设置 > 立即同步」相同：按 回调补偿 → 源系统 → 钉钉 的顺序在后台运行，立即返回同步日志"
        "（结果 running）；用 GET .../sync-runs/{run_id} 查看进度和结果。需要令牌所属管理员在该组织有「通讯录同步」"
        "权限。同一组织同时只运行一次同步，正在运行时返回 409。"
    ),
    response_model=SyncRunAnswer,
    responses={**_ERRORS, 409: {"model": ErrorAnswer, "description": "同步正在进行中"}},
)
async def start_run(
    org_id: int,
    body: StartRequest | None = None,
    actor: Actor = Depends(token_actor),
    rt: Runtime = Depends(console_runtime),
) -> Any:
    detail = await sync_runs_remote.start_run(actor, org_id, rt=rt, full=bool(body and body.full))
    return _run(detail)


@router.get(
    "",
    summary="同步日志列表（分页，最新的在前）",
    response_model=SyncRunPage,
    responses=_ERRORS,
)
async def list_runs(
    org_id: int,
    page: int = Query(1, ge=1, description="页码，从 1 开始"),
    page_size: int = Query(20, ge=1, le=sync_runs_remote.MAX_PAGE_SIZE, alias="pageSize", description="每页条数"),
    actor: Actor = Depends(token_actor),
) -> Any:
    result = await sync_runs_remote.list_runs(actor, org_id, page=page, page_size=page_size)
    return {"items": [_run(r) for r in result.items], "total": result.total, "page": result.page,
            "pageSize": result.page_size}  # fmt: skip


@router.get(
    "/{run_id}",
    summary="一次同步的进度、计数、结果和概要",
    response_model=SyncRunAnswer,
    responses=_ERRORS,
)
async def get_run(org_id: int, run_id: int, actor: Actor = Depends(token_actor)) -> Any:
    return _run(await sync_runs_remote.get_run(actor, org_id, run_id))
