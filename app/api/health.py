"""Liveness and readiness for load balancers and monitoring.

``/healthz`` is 200 only when the database accepts writes (the heartbeat of ``app.services.heartbeat``) and the
data folder is writable with space left; otherwise 503 with the reason, so a load balancer takes the replica out
and whoever looks sees why.
"""

from __future__ import annotations

import hmac

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, PlainTextResponse

from app.api.running import runtime_if_started
from app.core import metrics as core_metrics
from app.runtime import Runtime
from app.services import heartbeat, metrics, security_settings

router = APIRouter(tags=["运维"])


@router.get("/healthz", summary="健康检查：数据库可写、数据目录可写且有剩余空间时返回 200，否则 503 并给出原因")
async def healthz(rt: Runtime | None = Depends(runtime_if_started)) -> JSONResponse:
    ok, reason = await heartbeat.status(rt)
    body: dict = {"status": "ok" if ok else "unavailable", "database": ok}
    if reason:
        body["reason"] = reason
    return JSONResponse(body, status_code=200 if ok else 503)


@router.get(
    "/metrics",
    summary="Prometheus 格式的运行指标（系统设置中设置了访问令牌时需 Authorization: Bearer <令牌>）",
    response_class=PlainTextResponse,
)
async def prometheus_metrics(request: Request, rt: Runtime | None = Depends(runtime_if_started)) -> PlainTextResponse:
    token = (await security_settings.load()).metrics_token
    if token:
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), token.encode()):
            return PlainTextResponse(
                "需要访问令牌：Authorization: Bearer <令牌>（见 系统设置 > 安全设置）\n",
                status_code=401,
                headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
            )
    return PlainTextResponse(await metrics.render(rt), media_type=core_metrics.CONTENT_TYPE)
