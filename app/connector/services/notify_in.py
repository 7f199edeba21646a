"""The connector's 接收通知接口: change notifications from the console, verified before anything happens.

Contract (the console's access_notify): ``X-LanDing-Signature`` = hex HMAC-SHA256 of the raw body keyed with the
认证密码 received at binding; the body carries ``time`` (ms) and ``nonce``. A notification older or newer than
``WINDOW_MS`` or with a nonce seen before is a replay and refused. ``contacts.changed`` wakes the mapping pull,
``org.changed`` re-reads the org's DingTalk parameters.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time

from app.connector import runtime
from app.connector.services import binding as binding_service
from app.connector.services import interface_log
from app.connector.services.errors import ConnectorError

WINDOW_MS = 5 * 60 * 1000


def signature(body: bytes, password: str) -> str:
    return hmac.new(password.encode("utf-8"), body, hashlib.sha256).hexdigest()


def _remember(seen: dict[str, float], nonce: str, now: float) -> bool:
    for old in [n for n, t in seen.items() if now - t > WINDOW_MS / 1000 * 2]:
        del seen[old]
    if nonce in seen:
        return False
    seen[nonce] = now
    return True


async def receive(body: bytes, signature_header: str, *, rt: runtime.ConnectorRuntime) -> str:
    """Verify and act; returns the event type. Raises ConnectorError (status 401/400) when refused."""
    binding = await binding_service.current()
    if binding is None:
        raise ConnectorError("未绑定蓝钉管理平台", status=409)
    expected = signature(body, binding.auth_password)
    if not hmac.compare_digest(expected, (signature_header or "").strip().lower()):
        await interface_log.record("钉钉集成", "接收变更通知", body, {"error": "签名错误"}, ok=False)
        raise ConnectorError("签名错误", status=401)
    try:
        message = json.loads(body)
    except ValueError as exc:
        raise ConnectorError("通知内容不是 JSON") from exc
    now = time.time()
    sent = int(message.get("time") or 0)
    nonce = str(message.get("nonce") or "")
    if abs(now * 1000 - sent) > WINDOW_MS or not nonce or not _remember(rt.seen_nonces, nonce, now):
        await interface_log.record("钉钉集成", "接收变更通知", message, {"error": "过期或重复的通知"}, ok=False)
        raise ConnectorError("过期或重复的通知", status=401)
    event = str(message.get("eventType") or "")
    if event == "org.changed":
        await binding_service.refresh_org(rt)
    rt.mapping_wakeup.set()  # org changes may come with mapping changes too; a pull is cheap
    await interface_log.record("钉钉集成", "接收变更通知", message, {"errcode": 0, "errmsg": "ok"})
    return event
