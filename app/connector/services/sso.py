"""4.1.1 免登录 and 4.1.2 扫码登录: DingTalk identity -> person mapping -> a one-time login ticket.

- Free login: the page opened inside DingTalk gets an in-app auth code (JSAPI ``requestAuthCode``); we exchange
  it with ``topapi/v2/user/getuserinfo`` for the userid.
- Scan login, legacy mode: the browser goes to ``/connect/qrconnect`` with the scan-login appid; the callback's
  ``code`` goes to ``sns/getuserinfo_bycode`` (HMAC-SHA256 signed) for the unionid, then ``getbyunionid``.
- Scan login, OAuth2 mode (recommended): ``login.dingtalk.com/oauth2/auth`` with the AppKey; ``authCode`` ->
  ``/v1.0/oauth2/userAccessToken`` -> ``/v1.0/contact/users/me`` for the unionId, then ``getbyunionid``.

The userid is looked up in the person mapping; its EKP login name goes into a ticket: 32 random bytes plus an
HMAC tag (so a forged ticket is refused without a database read), valid ``TICKET_SECONDS``, stored only as a
SHA-256 digest and redeemed at most once by the business system over Basic-authenticated server-to-server HTTP.
The ``state`` of the browser round trip is signed and expires, so a callback cannot be replayed or forged.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

from app.connector import runtime
from app.connector.config import ConnectorSettings
from app.connector.models import LoginTicket, PersonMapping
from app.connector.services import binding as binding_service
from app.connector.services import interface_log
from app.connector.services import options as options_service
from app.connector.services.errors import ConnectorError
from app.dingtalk.errors import DingTalkAPIError, DingTalkTransportError

TICKET_SECONDS = 120
STATE_SECONDS = 600


class LoginRefused(ConnectorError):
    """The user cannot be logged in; the message is shown on a plain page."""


@dataclass
class Identity:
    login_name: str
    ekp_id: str
    ding_userid: str
    name: str


def _key(settings: ConnectorSettings, purpose: str) -> bytes:
    secret = settings.session_secret.get_secret_value()
    return hmac.new(secret.encode(), purpose.encode(), hashlib.sha256).digest()


def _tag(settings: ConnectorSettings, purpose: str, text: str) -> str:
    return base64.urlsafe_b64encode(
        hmac.new(_key(settings, purpose), text.encode(), hashlib.sha256).digest()[:18]
    ).decode()


def make_state(settings: ConnectorSettings, flow: str, target: str = "") -> str:
    body = f"{flow}.{int(time.time())}.{secrets.token_urlsafe(9)}.{base64.urlsafe_b64encode(target.encode()).decode()}"
    return f"{body}.{_tag(settings, 'state', body)}"


def check_state(settings: ConnectorSettings, state: str, flow: str) -> str:
    """Returns the target URL carried in the state; refuses forged, expired or other-flow states."""
    body, _, tag = (state or "").rpartition(".")
    parts = body.split(".")
    if len(parts) != 4 or not hmac.compare_digest(_tag(settings, "state", body), tag) or parts[0] != flow:
        raise LoginRefused("登录请求无效或已被篡改，请重新打开登录页")
    if time.time() - int(parts[1]) > STATE_SECONDS:
        raise LoginRefused("登录请求已过期，请重新打开登录页")
    return base64.urlsafe_b64decode(parts[3].encode()).decode()


async def _identity(userid: str) -> Identity:
    row = await PersonMapping.filter(ding_userid=userid).first()
    if row is None:
        raise LoginRefused("您的钉钉账号没有对应的业务系统账号（人员映射表中没有该人员），请联系管理员")
    login_name = row.login_name or row.ekp_id
    return Identity(login_name=login_name, ekp_id=row.ekp_id, ding_userid=userid, name=row.name)


async def _issue(settings: ConnectorSettings, identity: Identity, flow: str) -> str:
    raw = secrets.token_urlsafe(32)
    ticket = f"{raw}.{_tag(settings, 'ticket', raw)}"
    await LoginTicket.create(
        digest=hashlib.sha256(ticket.encode()).hexdigest(),
        login_name=identity.login_name,
        ekp_id=identity.ekp_id,
        ding_userid=identity.ding_userid,
        name=identity.name,
        flow=flow,
        expires_at=datetime.now(UTC) + timedelta(seconds=TICKET_SECONDS),
    )
    await LoginTicket.filter(expires_at__lt=datetime.now(UTC) - timedelta(days=1)).delete()
    return ticket


async def _dingtalk(name: str, request: dict, awaitable):
    try:
        return await interface_log.call("单点登录", name, request, awaitable)
    except DingTalkAPIError as exc:
        raise LoginRefused(f"钉钉拒绝了登录码（{exc.errcode} {exc.errmsg}），请重新登录") from exc
    except DingTalkTransportError as exc:
        raise LoginRefused("暂时无法连接钉钉，请稍后重试") from exc


async def free_login(code: str, *, rt: runtime.ConnectorRuntime) -> tuple[str, Identity]:
    opts = await options_service.load()
    if not opts.free_login_enabled:
        raise LoginRefused("免登录未开启，请使用账号密码登录")
    if not code:
        raise LoginRefused("缺少钉钉免登授权码")
    binding = await binding_service.require()
    app = binding_service.dingtalk_app(binding)
    info = await _dingtalk("免登获取用户", {"code": code}, rt.dingtalk.login.get_login_user(app, code))
    identity = await _identity(info.userid)
    return await _issue(rt.settings, identity, "free"), identity


async def scan_login_url(callback_url: str, target: str = "", *, settings: ConnectorSettings) -> str:
    opts = await options_service.load()
    if not opts.scan_login_enabled:
        raise LoginRefused("扫码登录未开启")
    binding = await binding_service.require()
    if opts.scan_login_mode == "sns":
        if not binding.scan_app_id:
            raise LoginRefused("蓝钉管理平台没有为该接入系统配置扫码登录 appid")
        query = {
            "appid": binding.scan_app_id,
            "response_type": "code",
            "scope": "snsapi_login",
            "state": make_state(settings, "sns", target),
            "redirect_uri": callback_url,
        }
        return f"{settings.dingtalk_oapi_base.rstrip('/')}/connect/qrconnect?{urlencode(query)}"
    query = {
        "redirect_uri": callback_url,
        "response_type": "code",
        "client_id": binding.app_key,
        "scope": "openid",
        "state": make_state(settings, "oauth2", target),
        "prompt": "consent",
    }
    return f"{settings.dingtalk_login_base.rstrip('/')}/oauth2/auth?{urlencode(query)}"


async def scan_callback(code: str, state: str, *, rt: runtime.ConnectorRuntime) -> tuple[str, Identity, str]:
    opts = await options_service.load()
    if not opts.scan_login_enabled:
        raise LoginRefused("扫码登录未开启")
    target = check_state(rt.settings, state, opts.scan_login_mode)
    if not code:
        raise LoginRefused("缺少钉钉登录码")
    binding = await binding_service.require()
    app = binding_service.dingtalk_app(binding)
    if opts.scan_login_mode == "sns":
        user = await _dingtalk(
            "扫码获取用户",
            {"accessKey": binding.scan_app_id, "tmp_auth_code": code},
            rt.dingtalk.login.get_sns_user_by_code(binding.scan_app_id, binding.scan_app_secret, code),
        )
        union_id = user.unionid
    else:
        token = await _dingtalk(
            "获取用户token",
            {"clientId": binding.app_key, "code": code},
            rt.dingtalk.login.get_user_access_token(binding.app_key, binding.app_secret, code),
        )
        profile = await _dingtalk(
            "获取用户信息", {"unionId": "me"}, rt.dingtalk.login.get_current_user(token.access_token)
        )
        union_id = profile.union_id
    found = await _dingtalk(
        "unionid获取userid", {"unionid": union_id}, rt.dingtalk.contacts.get_user_by_unionid(app, union_id)
    )
    identity = await _identity(found.userid)
    return await _issue(rt.settings, identity, opts.scan_login_mode), identity, target


async def redeem(ticket: str, *, settings: ConnectorSettings) -> Identity:
    """Server-to-server: a valid ticket gives the login name once; anything else is refused."""
    raw, _, tag = (ticket or "").rpartition(".")
    if not raw or not hmac.compare_digest(_tag(settings, "ticket", raw), tag):
        raise ConnectorError("票据无效", status=400)
    row = await LoginTicket.get_or_none(digest=hashlib.sha256(ticket.encode()).hexdigest())
    now = datetime.now(UTC)
    if row is None:
        raise ConnectorError("票据无效", status=400)
    if row.used_at is not None:
        raise ConnectorError("票据已使用", status=400)
    if row.expires_at < now:
        raise ConnectorError("票据已过期", status=400)
    updated = await LoginTicket.filter(id=row.id, used_at=None).update(used_at=now)
    if not updated:  # two redemptions racing: only one wins
        raise ConnectorError("票据已使用", status=400)
    return Identity(login_name=row.login_name, ekp_id=row.ekp_id, ding_userid=row.ding_userid, name=row.name)
