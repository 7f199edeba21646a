"""``/call_back/*`` management endpoints: register (with the live check_url handshake), update, get, delete and
the failed-event list that is consumed by reading it."""

from __future__ import annotations

import json
from typing import Any

from yarl import URL

from app.dingtalk.crypto import AES_KEY_LENGTH

from .delivery import KNOWN_TAGS, HandshakeError
from .errors import ApiError
from .routing import Ctx, RouteTable
from .state import CallbackRegistration, now_ms

routes = RouteTable()

FAILED_PAGE = 200
MAX_TAGS = 200


def parse_registration(ctx: Ctx) -> CallbackRegistration:
    tags = ctx.params.get("call_back_tag")
    if isinstance(tags, str):
        try:
            tags = json.loads(tags) if tags.strip().startswith("[") else [t for t in tags.split(",") if t]
        except ValueError:
            raise ApiError(71010) from None
    token = ctx.text("token")
    aes_key = ctx.text("aes_key")
    url = ctx.text("url")
    if not tags or not token or not aes_key or not url:
        raise ApiError(71010, "回调参数不合法: call_back_tag, token, aes_key, url 均不能为空")
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags) or len(tags) > MAX_TAGS:
        raise ApiError(71010)
    unknown = [t for t in tags if t not in KNOWN_TAGS]
    if unknown:
        raise ApiError(71008, f"不支持的回调事件类型: {','.join(unknown)}")
    if not 6 <= len(token) < 64:
        raise ApiError(71010, "回调参数不合法: token长度必须在6到64之间")
    if len(aes_key) != AES_KEY_LENGTH or not aes_key.isalnum() or not aes_key.isascii():
        raise ApiError(71010, "回调参数不合法: aes_key必须是43位的字母或数字")
    parsed = URL(url)
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise ApiError(71011)
    return CallbackRegistration(
        call_back_tag=list(dict.fromkeys(tags)), token=token, aes_key=aes_key, url=url, registered_at=now_ms()
    )


async def handshake(ctx: Ctx, registration: CallbackRegistration) -> None:
    message = json.dumps({"EventType": "check_url"}, separators=(",", ":"))
    try:
        await ctx.sim.dispatcher.push(ctx.require_corp(), ctx.require_app(), registration, message)
    except HandshakeError as exc:
        raise ApiError(exc.errcode, exc.errmsg) from None


@routes.post("/call_back/register_call_back")
async def register(ctx: Ctx) -> dict[str, Any]:
    app = ctx.require_app()
    if app.callback is not None:
        raise ApiError(71006)
    registration = parse_registration(ctx)
    await handshake(ctx, registration)
    if app.callback is not None:  # a concurrent registration won the race during the handshake
        raise ApiError(71006)
    app.callback = registration
    return {}


@routes.post("/call_back/update_call_back")
async def update(ctx: Ctx) -> dict[str, Any]:
    app = ctx.require_app()
    if app.callback is None:
        raise ApiError(71007)
    registration = parse_registration(ctx)
    await handshake(ctx, registration)
    app.callback = registration
    return {}


@routes.get("/call_back/get_call_back")
async def get(ctx: Ctx) -> dict[str, Any]:
    registration = ctx.require_app().callback
    if registration is None:
        raise ApiError(71007)
    return {
        "call_back_tag": list(registration.call_back_tag),
        "token": registration.token,
        "aes_key": registration.aes_key,
        "url": registration.url,
    }


@routes.get("/call_back/delete_call_back")
async def delete(ctx: Ctx) -> dict[str, Any]:
    app = ctx.require_app()
    if app.callback is None:
        raise ApiError(71007)
    app.callback = None
    return {}


@routes.get("/call_back/get_call_back_failed_result")
async def failed_result(ctx: Ctx) -> dict[str, Any]:
    app = ctx.require_app()
    page, app.failed_events = app.failed_events[:FAILED_PAGE], app.failed_events[FAILED_PAGE:]
    return {"has_more": bool(app.failed_events), "failed_list": page}
