"""Liveness and readiness for load balancers and monitoring."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse, PlainTextResponse

from app.core import db
from app.core import metrics as core_metrics
from app.services import metrics

router = APIRouter(tags=["运维"])


@router.get("/healthz", summary="健康检查：数据库可达时返回 200，否则 503")
async def healthz() -> JSONResponse:
    ok = await db.ping()
    return JSONResponse({"status": "ok" if ok else "unavailable", "database": ok}, status_code=200 if ok else 503)


@router.get("/metrics", summary="Prometheus 格式的运行指标", response_class=PlainTextResponse)
async def prometheus_metrics() -> PlainTextResponse:
    return PlainTextResponse(await metrics.render(), media_type=core_metrics.CONTENT_TYPE)
