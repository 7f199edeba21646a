"""Liveness and readiness for load balancers and monitoring."""

from __future__ import annotations

import hmac

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, PlainTextResponse

from app.core import db
from app.core import metrics as core_metrics
from app.services import metrics, security_settings

router = APIRouter(tags=["运维"])


@router.get("/healthz", summary="健康检查：数据库可达时返回 200，否则 503")
async def healthz() -> JSONResponse:
    ok = await db.ping()
    return JSONResponse({"status": "ok" if ok else "unavailable", "database": ok}, status_code=200 if ok else 503)


@router.get(
    "/metrics",
    summary="Prometheus 格式的运行指标（系统设置中设置了访问令牌时需 Authorization: Bearer <令牌>）",
    response_class=PlainTextResponse,
)
async def prometheus_metrics(request: Request) -> PlainTextResponse:
    token = (await security_settings.load()).metrics_token
    if token:
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), token.encode()):
            return PlainTextResponse(
                "需要访问令牌：Authorization: Bearer <令牌>（见 系统设置 > 安全设置）\n",
                status_code=401,
                headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
            )
    return PlainTextResponse(await metrics.render(), media_type=core_metrics.CONTENT_TYPE)
