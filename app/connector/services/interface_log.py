"""接口日志 (4.3): every DingTalk call the connector makes and every todo / SSO call it receives.

Request and answer are stored as pretty JSON with secrets, tokens and codes masked (the DingTalk client's
redaction rules), so the page and the download can be shown to anyone who may read the log. Retention (4.1.8):
``clean_up`` removes rows older than 钉钉待办日志保存期限 days; the connector runs it daily.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from app.connector.models import InterfaceLog
from app.core.redaction import redact, redact_mapping
from app.dingtalk.errors import DingTalkAPIError, DingTalkTransportError

FUNCTIONS = ("待办", "单点登录", "组织架构", "钉钉集成")
MAX_TEXT = 20_000
T = TypeVar("T")

# Beyond the client's keys: what the connector itself handles.
_EXTRA_SECRET_KEYS = {"authpassword", "ticket", "scanappsecret", "apppassword", "password"}


def _mask(data: Any) -> Any:
    return redact_mapping(data, _EXTRA_SECRET_KEYS)


def as_text(data: Any) -> str:
    if data is None:
        return ""
    if isinstance(data, str | bytes):
        text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
        try:
            data = json.loads(text)
        except ValueError:
            return redact(text)[:MAX_TEXT]
    if hasattr(data, "model_dump"):
        data = data.model_dump(mode="json")
    return json.dumps(_mask(data), ensure_ascii=False, indent=2, default=str)[:MAX_TEXT]


def _now() -> datetime:
    return datetime.now(UTC)


async def record(
    function: str, interface: str, request: Any, response: Any, *, ok: bool = True, sent_at: datetime | None = None
) -> None:
    await InterfaceLog.create(
        function=function,
        interface=interface,
        request=as_text(request),
        sent_at=sent_at or _now(),
        response=as_text(response),
        returned_at=_now(),
        ok=ok,
    )


def error_text(exc: BaseException) -> dict[str, Any]:
    if isinstance(exc, DingTalkAPIError):
        return {"errcode": exc.errcode, "errmsg": exc.errmsg}
    if isinstance(exc, DingTalkTransportError):
        return {"error": str(exc)}
    return {"error": f"{type(exc).__name__}: {exc}"}


async def call(function: str, interface: str, request: Any, awaitable: Awaitable[T]) -> T:
    """Run one DingTalk call and log it; the exception is logged and re-raised."""
    sent = _now()
    try:
        result = await awaitable
    except Exception as exc:
        await record(function, interface, request, error_text(exc), ok=False, sent_at=sent)
        raise
    await record(function, interface, request, {"errcode": 0, "result": _result(result)}, sent_at=sent)
    return result


def _result(result: Any) -> Any:
    if hasattr(result, "model_dump"):
        return result.model_dump(mode="json")
    if isinstance(result, list):
        return [_result(r) for r in result]
    return result


async def page(
    *,
    function: str = "",
    keyword: str = "",
    ok: bool | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    offset: int = 0,
    limit: int = 20,
) -> tuple[list[InterfaceLog], int]:
    query = InterfaceLog.all()
    if function:
        query = query.filter(function=function)
    if keyword:
        query = query.filter(interface__icontains=keyword)
    if ok is not None:
        query = query.filter(ok=ok)
    if since:
        query = query.filter(sent_at__gte=since)
    if until:
        query = query.filter(sent_at__lt=until)
    total = await query.count()
    rows = await query.order_by("-id").offset(offset).limit(limit)
    return rows, total


async def get(log_id: int) -> InterfaceLog | None:
    return await InterfaceLog.get_or_none(id=log_id)


async def download(**filters: Any) -> str:
    rows, _ = await page(**filters, offset=0, limit=100_000)
    lines = []
    for row in rows:
        lines.append(
            f"[{row.sent_at:%Y-%m-%d %H:%M:%S}] {row.function} {row.interface} {'成功' if row.ok else '失败'}\n"
            f"发送信息：{row.request}\n返回信息（{row.returned_at:%Y-%m-%d %H:%M:%S}）：{row.response}\n"
        )
    return "\n".join(lines)


async def clean_up(retention_days: int, now: datetime | None = None) -> int:
    cutoff = (now or _now()) - timedelta(days=max(1, int(retention_days)))
    return await InterfaceLog.filter(sent_at__lt=cutoff).delete()
