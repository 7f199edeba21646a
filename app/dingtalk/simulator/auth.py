"""App access tokens and user login: gettoken, v1.0 accessToken, in-app auth codes, QR (sns) and OAuth2."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from typing import Any

from .directory import Directory
from .errors import ApiError, V1Error
from .routing import Ctx, RouteTable
from .state import App, Corp, LoginCode, TokenInfo, UserToken
from .users import sys_level

routes = RouteTable()

SNS_WINDOW_MS = 60_000
REFRESH_TTL = 30 * 24 * 3600
MAX_REMEMBERED_TOKENS = 2000


def issue_app_token(ctx: Ctx, corp: Corp, app: App) -> str:
    """Same token while valid (and its life extended), a new one after expiry, as DingTalk documents."""
    sim = ctx.sim
    now = time.time()
    lifetime = sim.config.token_ttl * sim.config.time_scale
    info = sim.state.tokens.get(app.token) if app.token else None
    if info is None or info.expires_at <= now:
        app.token = secrets.token_hex(16)
        info = TokenInfo(corpid=corp.corpid, appkey=app.appkey, expires_at=0)
        sim.state.tokens[app.token] = info
        forget_old_tokens(sim.state.tokens, now)
    info.expires_at = now + lifetime
    app.token_expires_at = info.expires_at
    return app.token


def forget_old_tokens(tokens: dict[str, TokenInfo], now: float) -> None:
    # Expired tokens are kept for a while so a late caller gets 42001 (expired), not 40014 (unknown).
    if len(tokens) <= MAX_REMEMBERED_TOKENS:
        return
    expired = sorted((t for t, i in tokens.items() if i.expires_at <= now), key=lambda t: tokens[t].expires_at)
    for token in expired[: len(tokens) - MAX_REMEMBERED_TOKENS]:
        del tokens[token]


def app_by_credentials(ctx: Ctx, appkey: str, appsecret: str) -> tuple[Corp, App] | None:
    found = ctx.sim.state.find_app(appkey)
    if found is None or not hmac.compare_digest(found[1].appsecret, appsecret):
        return None
    return found


@routes.get("/gettoken", auth="none")
async def gettoken(ctx: Ctx) -> dict[str, Any]:
    appkey = ctx.text("appkey") or ctx.text("corpid")
    appsecret = ctx.text("appsecret") or ctx.text("corpsecret")
    found = app_by_credentials(ctx, appkey, appsecret) if appkey and appsecret else None
    if found is None:
        raise ApiError(40089)
    ctx.bind_app(*found)
    token = issue_app_token(ctx, *found)
    return {"access_token": token, "expires_in": int(ctx.sim.config.token_ttl)}


@routes.post("/v1.0/oauth2/accessToken", auth="none")
async def v1_access_token(ctx: Ctx) -> dict[str, Any]:
    appkey, appsecret = ctx.text("appKey"), ctx.text("appSecret")
    if not appkey or not appsecret:
        raise V1Error(400, "MissingParameter", "appKey和appSecret不能为空")
    found = app_by_credentials(ctx, appkey, appsecret)
    if found is None:
        raise V1Error(400, "invalidClientIdOrSecret", "无效的clientId或clientSecret")
    ctx.bind_app(*found)
    return {"accessToken": issue_app_token(ctx, *found), "expireIn": int(ctx.sim.config.token_ttl)}


@routes.post("/v1.0/oauth2/{corpId}/token", auth="none")
async def v1_corp_token(ctx: Ctx) -> dict[str, Any]:
    """获取应用的 Access Token: the corpId in the path must be the org the app runs in (内部应用填本企业 corpId)."""
    if ctx.text("grant_type") != "client_credentials":
        raise V1Error(400, "unsupported.grant.type", "不支持的授权类型")
    found = app_by_credentials(ctx, ctx.text("client_id"), ctx.text("client_secret"))
    if found is None:
        raise V1Error(400, "invalid.client", "无效的client_id或client_secret")
    corp, app = found
    ctx.bind_app(corp, app)
    if ctx.request.match_info["corpId"] != corp.corpid:
        raise V1Error(401, "unauthorized.client", "应用未在该组织中安装或授权")
    return {"access_token": issue_app_token(ctx, corp, app), "expires_in": int(ctx.sim.config.token_ttl)}


# -- login codes ------------------------------------------------------------------------------------------------


def issue_code(sim: Any, corp: Corp, userid: str, kind: str, appkey: str = "") -> str:
    """Used by the control API: what DingTalk hands the browser / JSAPI after the user logs in."""
    code = secrets.token_hex(16)
    ttl = sim.config.code_ttl * sim.config.time_scale
    sim.state.codes[code] = LoginCode(
        kind=kind, corpid=corp.corpid, userid=userid, expires_at=time.time() + ttl, appkey=appkey
    )
    return code


def take_code(ctx: Ctx, code: str, kind: str, corpid: str | None) -> LoginCode | None:
    """One-shot: a code is removed on first use whatever the outcome."""
    entry = ctx.sim.state.codes.pop(code, None) if code else None
    if entry is None or entry.kind != kind or entry.expires_at <= time.time():
        return None
    if corpid is not None and entry.corpid != corpid:
        return None
    return entry


@routes.post("/topapi/v2/user/getuserinfo")
async def v2_getuserinfo(ctx: Ctx) -> dict[str, Any]:
    corp = ctx.require_corp()
    entry = take_code(ctx, ctx.text("code", required=True), "auth", corp.corpid)
    if entry is None:
        raise ApiError(40078)
    user = Directory(ctx.sim, corp).user(entry.userid)
    return {
        "result": {
            "userid": user.userid,
            "unionid": user.unionid,
            "associated_unionid": "",
            "name": user.name,
            "device_id": secrets.token_hex(16),
            "sys": user.admin,
            "sys_level": sys_level(user),
        }
    }


@routes.get("/user/getuserinfo")
async def legacy_getuserinfo(ctx: Ctx) -> dict[str, Any]:
    corp = ctx.require_corp()
    entry = take_code(ctx, ctx.text("code", required=True), "auth", corp.corpid)
    if entry is None:
        raise ApiError(40078)
    user = Directory(ctx.sim, corp).user(entry.userid)
    return {
        "userid": user.userid,
        "name": user.name,
        "deviceId": secrets.token_hex(16),
        "is_sys": user.admin,
        "sys_level": sys_level(user),
    }


def sns_signature(appsecret: str, timestamp: str) -> str:
    digest = hmac.new(appsecret.encode(), timestamp.encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


@routes.post("/sns/getuserinfo_bycode", auth="none")
async def sns_getuserinfo_bycode(ctx: Ctx) -> dict[str, Any]:
    # aiohttp has already URL-decoded the query: a caller that forgot to urlencode the signature sends "+" which
    # arrives as a space and fails the comparison, exactly like on DingTalk.
    query = ctx.request.query
    access_key = query.get("accessKey", "")
    timestamp = query.get("timestamp", "")
    signature = query.get("signature", "")
    if not timestamp.isdigit() or len(timestamp) != 13:
        raise ApiError(853001)
    if abs(int(timestamp) - int(time.time() * 1000)) > SNS_WINDOW_MS:
        raise ApiError(853002)
    found = ctx.sim.state.find_app(access_key) if access_key else None
    if found is None:
        raise ApiError(853003)
    corp, app = found
    if not hmac.compare_digest(sns_signature(app.appsecret, timestamp), signature):
        raise ApiError(853004)
    ctx.bind_app(corp, app)
    entry = take_code(ctx, ctx.text("tmp_auth_code", required=True), "sns", corp.corpid)
    if entry is None:
        raise ApiError(40078)
    user = Directory(ctx.sim, corp).user(entry.userid)
    return {
        "user_info": {
            "nick": user.name,
            "unionid": user.unionid,
            "openid": hashlib.sha1(f"{app.appkey}:{user.unionid}".encode()).hexdigest()[:22] + "iE",
            "main_org_auth_high_level": True,
        }
    }


@routes.post("/v1.0/oauth2/userAccessToken", auth="none")
async def v1_user_access_token(ctx: Ctx) -> dict[str, Any]:
    client_id, client_secret = ctx.text("clientId"), ctx.text("clientSecret")
    grant = ctx.text("grantType", default="authorization_code")
    found = app_by_credentials(ctx, client_id, client_secret) if client_id and client_secret else None
    if found is None:
        raise V1Error(400, "invalidClientIdOrSecret", "无效的clientId或clientSecret")
    corp, app = found
    ctx.bind_app(corp, app)
    sim = ctx.sim
    now = time.time()
    if grant == "authorization_code":
        entry = take_code(ctx, ctx.text("code"), "oauth2", corp.corpid)
        if entry is None:
            raise V1Error(400, "invalidAuthCode", "不合法的临时授权码")
        userid = entry.userid
    elif grant == "refresh_token":
        old = sim.state.refresh_tokens.pop(ctx.text("refreshToken"), None)
        if old is None or old.expires_at <= now or old.appkey != app.appkey:
            raise V1Error(400, "invalidRefreshToken", "不合法的refreshToken")
        userid = old.userid
    else:
        raise V1Error(400, "invalidParameter", "grantType不合法")
    if userid not in corp.users:
        raise V1Error(404, "invalidParameter.user.notFound", "用户不存在")
    access = secrets.token_hex(16)
    refresh = secrets.token_hex(16)
    lifetime = sim.config.token_ttl * sim.config.time_scale
    sim.state.user_tokens[access] = UserToken(corp.corpid, app.appkey, userid, now + lifetime, refresh)
    sim.state.refresh_tokens[refresh] = UserToken(
        corp.corpid, app.appkey, userid, now + REFRESH_TTL * sim.config.time_scale
    )
    return {
        "accessToken": access,
        "refreshToken": refresh,
        "expireIn": int(sim.config.token_ttl),
        "corpId": corp.corpid,
    }


@routes.get("/v1.0/contact/users/{unionId}", auth="user")
async def v1_users_me(ctx: Ctx) -> dict[str, Any]:
    corp = ctx.require_corp()
    assert ctx.user_token is not None
    user = corp.users.get(ctx.user_token.userid)
    if user is None:
        raise V1Error(404, "invalidParameter.user.notFound", "用户不存在")
    wanted = ctx.request.match_info["unionId"]
    if wanted not in ("me", user.unionid):
        raise V1Error(403, "Forbidden.AccessDenied.AccessTokenPermissionDenied", "没有调用该接口的权限")
    body: dict[str, Any] = {
        "nick": user.name,
        "mobile": user.mobile,
        "openId": hashlib.sha1(f"{ctx.require_app().appkey}:{user.unionid}".encode()).hexdigest()[:22] + "iE",
        "unionId": user.unionid,
        "stateCode": user.state_code,
    }
    if user.avatar:
        body["avatarUrl"] = user.avatar
    if user.email:
        body["email"] = user.email
    return body
