"""``POST /api/lding/notify``: the 接收通知接口 the connector registers with the console on binding."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from app.connector.api.running import connector_runtime
from app.connector.runtime import ConnectorRuntime
from app.connector.services import notify_in
from app.connector.services.errors import ConnectorError

router = APIRouter(tags=["蓝钉通知"])


@router.post("/api/lding/notify", summary="接收蓝钉管理平台的变更通知（X-LanDing-Signature 签名）")
async def receive(request: Request, rt: ConnectorRuntime = Depends(connector_runtime)) -> JSONResponse:
    body = await request.body()
    try:
        event = await notify_in.receive(body, request.headers.get("X-LanDing-Signature", ""), rt=rt)
    except ConnectorError as exc:
        return JSONResponse({"errcode": exc.status, "errmsg": exc.message}, status_code=exc.status)
    return JSONResponse({"errcode": 0, "errmsg": "ok", "eventType": event})
