"""API for bound business systems (接入系统): bind with the access identifier, then HTTP Basic with the credentials.

Every answer is JSON with ``errcode`` (0 = success) and ``errmsg``; failures also carry a fitting HTTP status
(400 bad input, 401 bad credentials with ``WWW-Authenticate: Basic realm="LanDing"``, 403 address not allowed,
404 unknown identifier, 409 identifier already used, 429 too many attempts).
"""

from __future__ import annotations

import base64
import binascii
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from fastapi.security import HTTPBasic, HTTPBasicCredentials
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.services import access_systems
from app.services.access_systems import AccessError

log = logging.getLogger(__name__)

REALM = "LanDing"
MAX_CREDENTIAL = 256  # a 60 KB user name is not an account: refused before any lookup or log line


def error_response(errcode: int, status: int, message: str) -> JSONResponse:
    headers = {"WWW-Authenticate": f'Basic realm="{REALM}"'} if status == 401 else None
    return JSONResponse({"errcode": errcode, "errmsg": message}, status_code=status, headers=headers)


class JsonErrorRoute(APIRoute):
    """Turns every failure of these routes into ``{"errcode", "errmsg"}`` (callers parse errcode, not HTML)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def guarded(request: Request) -> Response:
            try:
                return await handler(request)
            except AccessError as exc:
                return error_response(exc.errcode, exc.status, exc.message)
            except RequestValidationError as exc:
                first = exc.errors()[0] if exc.errors() else {}
                where = ".".join(str(p) for p in first.get("loc", ()) if p != "body")
                return error_response(access_systems.BAD_REQUEST, 400, f"请求格式错误：{where} {first.get('msg', '')}")
            except (RecursionError, UnicodeDecodeError):  # a 30 KB nested array or bytes that are not text
                return error_response(access_systems.BAD_REQUEST, 400, "请求体不是有效的 JSON")
            except StarletteHTTPException as exc:
                if exc.status_code == 401:
                    return error_response(access_systems.BAD_CREDENTIALS, 401, "需要认证账号和认证密码（HTTP Basic）")
                return error_response(exc.status_code * 100 + 1, exc.status_code, str(exc.detail))
            except Exception:
                log.exception("access API %s failed", request.url.path[:200])
                return error_response(50001, 500, "服务器内部错误，请稍后重试")

        return guarded


class _LenientBasic(HTTPBasic):
    """HTTP Basic that reads UTF-8 credentials and leaves every refusal to ``current_system``."""

    async def __call__(self, request: Request) -> HTTPBasicCredentials | None:  # type: ignore[override]
        scheme, _, param = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "basic" or not param:
            return None
        try:
            raw = base64.b64decode(param.strip(), validate=True)
        except (ValueError, binascii.Error):
            return None
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            text = raw.decode("latin-1")
        username, separator, password = text.partition(":")
        return HTTPBasicCredentials(username=username, password=password) if separator else None


basic = _LenientBasic(
    scheme_name="LanDingBasic", realm=REALM, auto_error=False, description="接入系统的认证账号和认证密码"
)


def client_ip(request: Request) -> str:
    # The socket peer: behind a reverse proxy run uvicorn with --proxy-headers/--forwarded-allow-ips so that this
    # is the real caller. A client-supplied X-Forwarded-For must not decide the allow-list or the rate limit.
    return request.client.host if request.client else ""


async def current_system(request: Request, credentials: HTTPBasicCredentials | None = Depends(basic)):
    ip = client_ip(request)
    if credentials is None:
        raise AccessError(access_systems.BAD_CREDENTIALS, 401, "需要认证账号和认证密码（HTTP Basic）")
    if (
        len(credentials.username) > MAX_CREDENTIAL
        or len(credentials.password) > MAX_CREDENTIAL
        or "\x00" in credentials.username + credentials.password  # PostgreSQL refuses NUL in text
    ):
        raise AccessError(access_systems.BAD_CREDENTIALS, 401, "认证账号或认证密码错误")
    return await access_systems.authenticate(credentials.username, credentials.password, ip)


# ---------------------------------------------------------------------------------------------------------------


class ErrorAnswer(BaseModel):
    errcode: int = Field(description="非 0 表示失败")
    errmsg: str


class BindRequest(BaseModel):
    identifier: str = Field(description="接入标识（在蓝钉管理平台「设置 > 接入系统」中创建）", max_length=64)
    notifyUrl: str | None = Field(  # noqa: N815 - the wire name
        default=None, description="可选：接收通知接口，蓝钉在组织配置或通讯录变化时 POST 通知到此地址", max_length=512
    )


class OrgConfig(BaseModel):
    errcode: int = 0
    errmsg: str = "ok"
    orgName: str  # noqa: N815
    corpId: str  # noqa: N815
    appKey: str  # noqa: N815
    appSecret: str  # noqa: N815
    agentId: str  # noqa: N815
    scanAppId: str = Field(description="扫码登录 appid")  # noqa: N815
    scanAppSecret: str = Field(description="扫码登录 appsecret")  # noqa: N815
    apiBase: str = Field(description="蓝钉管理平台地址：映射接口 {apiBase}/api/lding-console/...")  # noqa: N815
    notifyUrl: str = Field(description="当前登记的接收通知接口")  # noqa: N815


class BindAnswer(OrgConfig):
    authAccount: str = Field(description="认证账号：以 HTTP Basic 调用其余接口")  # noqa: N815
    authPassword: str = Field(description="认证密码；也是通知签名 HMAC-SHA256 的密钥")  # noqa: N815


class OrgAnswer(OrgConfig):
    isMain: bool  # noqa: N815
    systemName: str  # noqa: N815


class NotifyUrlRequest(BaseModel):
    notifyUrl: str = Field(description="接收通知接口；空字符串表示不再接收通知", max_length=512)  # noqa: N815


class NotifyUrlAnswer(BaseModel):
    errcode: int = 0
    errmsg: str = "ok"
    notifyUrl: str  # noqa: N815


_ERRORS = {
    400: {"model": ErrorAnswer, "description": "请求格式错误"},
    401: {"model": ErrorAnswer, "description": "认证失败（带 WWW-Authenticate）"},
    403: {"model": ErrorAnswer, "description": "来源地址不在 IP 白名单内"},
    429: {"model": ErrorAnswer, "description": "尝试过于频繁"},
}

router = APIRouter(prefix="/api/v1/access", tags=["接入系统"], route_class=JsonErrorRoute)


@router.post(
    "/bind",
    summary="用接入标识绑定，换取对接钉钉的参数和认证账号/密码",
    description=(
        "业务系统（如 EKP 蓝钉对接组件）首次接入时调用。接入标识默认只能使用一次，管理员可在"
        "「设置 > 接入系统」中重新启用。每个来源地址每分钟最多尝试 10 次；配置了 IP 白名单时只接受名单内的地址。"
        "可同时登记接收通知接口（notifyUrl）。"
    ),
    response_model=BindAnswer,
    responses={
        **_ERRORS,
        404: {"model": ErrorAnswer, "description": "接入标识不存在"},
        409: {"model": ErrorAnswer, "description": "接入标识已被使用"},
    },
)
async def bind(body: BindRequest, request: Request) -> dict[str, Any]:
    return await access_systems.bind(body.identifier, body.notifyUrl or "", client_ip(request))


@router.get(
    "/org",
    summary="组织信息与对接钉钉的参数",
    description="HTTP Basic（认证账号/认证密码）。收到 org.changed 通知后调用此接口获取最新配置。",
    response_model=OrgAnswer,
    responses=_ERRORS,
)
async def org(system=Depends(current_system)) -> dict[str, Any]:
    return await access_systems.org_info(system)


@router.post(
    "/notify-url",
    summary="登记或修改接收通知接口",
    description="HTTP Basic（认证账号/认证密码）。蓝钉在组织配置或通讯录映射变化时向此地址 POST 签名的 JSON 通知。",
    response_model=NotifyUrlAnswer,
    responses=_ERRORS,
)
async def notify_url(body: NotifyUrlRequest, request: Request, system=Depends(current_system)) -> dict[str, Any]:
    url = await access_systems.set_notify_url(system, body.notifyUrl, client_ip(request))
    return {"errcode": 0, "errmsg": "ok", "notifyUrl": url}
