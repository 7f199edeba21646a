"""Login routes: 免登录 entry (inside DingTalk), 扫码登录 redirect and callback, and ticket redemption.

The browser never sees a session of the business system: it gets a one-time ticket appended to the configured
登录回调地址, and the business system redeems it with ``POST /api/lding/sso/redeem`` (HTTP Basic).
"""

from __future__ import annotations

import html
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from pydantic import BaseModel

from app.connector.api.auth import authorised
from app.connector.api.running import connector_runtime
from app.connector.runtime import ConnectorRuntime
from app.connector.services import interface_log, sso
from app.connector.services import options as options_service
from app.connector.services.errors import ConnectorError

router = APIRouter(tags=["单点登录"])

# Inside DingTalk the page asks the client for a code (JSAPI requestAuthCode) and comes back with ?code=.
_JSAPI_PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>正在登录</title>
<script src="https://g.alicdn.com/dingding/dingtalk-jsapi/3.0.25/dingtalk.open.js"></script></head>
<body><p>正在通过钉钉登录……</p><script>
if (window.dd) { dd.ready(function () { dd.runtime.permission.requestAuthCode({corpId: %(corp)s,
  onSuccess: function (r) { location.search = "?code=" + encodeURIComponent(r.code) + "&target=" + %(target)s; },
  onFail: function () { document.body.innerText = "请在钉钉中打开此页面"; } }); }); }
else { document.body.innerText = "请在钉钉中打开此页面"; }
</script></body></html>"""


def refusal_page(message: str, status: int = 403) -> HTMLResponse:
    body = (
        "<!doctype html><html><head><meta charset='utf-8'><title>无法登录</title>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'></head>"
        "<body style='font-family:sans-serif;padding:40px;text-align:center;color:#333'>"
        f"<h2>无法登录</h2><p id='reason'>{html.escape(message)}</p></body></html>"
    )
    return HTMLResponse(body, status_code=status)


async def _hand_over(ticket: str, target: str) -> RedirectResponse | HTMLResponse:
    opts = await options_service.load()
    if not opts.sso_redirect_url:
        return refusal_page("管理员尚未配置登录回调地址（登录配置）", status=503)
    separator = "&" if "?" in opts.sso_redirect_url else "?"
    query = {"ldTicket": ticket, **({"target": target} if target else {})}
    return RedirectResponse(f"{opts.sso_redirect_url}{separator}{urlencode(query)}", status_code=302)


@router.get("/sso/dingtalk", summary="免登录入口：在钉钉中打开，带 code 时换取票据并跳转业务系统")
async def free_login(
    request: Request, code: str = "", target: str = "", rt: ConnectorRuntime = Depends(connector_runtime)
):
    if not code:
        import json

        from app.connector.services import binding as binding_service

        binding = await binding_service.current()
        corp = json.dumps(binding.corp_id if binding else "")
        return HTMLResponse(_JSAPI_PAGE % {"corp": corp, "target": json.dumps(target)})
    try:
        ticket, _identity = await sso.free_login(code, rt=rt)
    except ConnectorError as exc:
        return refusal_page(exc.message)
    return await _hand_over(ticket, target)


def _callback_url(request: Request) -> str:
    return str(request.url_for("scan_callback"))


@router.get("/sso/scan", summary="扫码登录：跳转到钉钉扫码页")
async def scan(request: Request, target: str = "", rt: ConnectorRuntime = Depends(connector_runtime)):
    try:
        url = await sso.scan_login_url(_callback_url(request), target, settings=rt.settings)
    except ConnectorError as exc:
        return refusal_page(exc.message)
    return RedirectResponse(url, status_code=302)


@router.get("/sso/scan/callback", name="scan_callback", summary="扫码登录回调（code 或 authCode）")
async def scan_callback(
    request: Request,
    state: str = "",
    code: str = "",
    authCode: str = "",  # noqa: N803
    rt: ConnectorRuntime = Depends(connector_runtime),
):
    try:
        ticket, _identity, target = await sso.scan_callback(authCode or code, state, rt=rt)
    except ConnectorError as exc:
        return refusal_page(exc.message)
    return await _hand_over(ticket, target)


class RedeemRequest(BaseModel):
    ticket: str


@router.post("/api/lding/sso/redeem", summary="业务系统服务端兑换一次性登录票据（HTTP Basic：待办接口账号）")
async def redeem(
    body: RedeemRequest, request: Request, rt: ConnectorRuntime = Depends(connector_runtime)
) -> JSONResponse:
    if not await authorised(request):
        return JSONResponse(
            {"errcode": 401, "errmsg": "认证失败"}, status_code=401, headers={"WWW-Authenticate": "Basic"}
        )
    try:
        identity = await sso.redeem(body.ticket, settings=rt.settings)
    except ConnectorError as exc:
        await interface_log.record("单点登录", "兑换登录票据", {"ticket": "***"}, {"error": exc.message}, ok=False)
        return JSONResponse({"errcode": 40001, "errmsg": exc.message}, status_code=exc.status)
    answer = {
        "errcode": 0,
        "errmsg": "ok",
        "loginName": identity.login_name,
        "ekpId": identity.ekp_id,
        "dingUserId": identity.ding_userid,
        "name": identity.name,
    }
    await interface_log.record("单点登录", "兑换登录票据", {"ticket": "***"}, answer)
    return JSONResponse(answer)
