"""OpenID Connect provider endpoints for exclusive DingTalk's domain-account login (guide 3.2.6).

Discovery, JWKS, the authorize endpoint (a Chinese login page for 域账号 + 密码), the token endpoint and userinfo.
The flow's rules live in ``app.services.login_auth``; this module only speaks HTTP and renders the two small pages.
"""

from __future__ import annotations

import base64
import html
from urllib.parse import unquote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from app.api.running import console_runtime
from app.runtime import Runtime
from app.services import company, login_auth, security_settings
from app.services.authenticators import AuthFailure
from app.services.login_auth import AuthRequest, OidcError

router = APIRouter(tags=["域账号登录 (OIDC)"])

_STYLE = """
body{margin:0;font-family:"PingFang SC","Microsoft YaHei",sans-serif;background:#f3f5f8;color:#1f2329}
.box{box-sizing:border-box;width:min(400px,calc(100% - 24px));margin:10vh auto;background:#fff;border-radius:8px;
box-shadow:0 2px 12px rgba(0,0,0,.08);padding:32px}
@media (max-width:420px){.box{margin:16px auto;padding:20px 16px}}
h1{font-size:20px;margin:0 0 4px}p.sub{color:#646a73;margin:0 0 24px;font-size:13px}
label{display:block;font-size:13px;color:#646a73;margin:14px 0 6px}
input{width:100%;box-sizing:border-box;padding:10px 12px;border:1px solid #d0d3d6;border-radius:4px;font-size:14px}
button{width:100%;margin-top:24px;padding:11px;border:0;border-radius:4px;background:#1677ff;color:#fff;font-size:15px}
.err{background:#fff1f0;border:1px solid #ffccc7;color:#cf1322;padding:8px 12px;border-radius:4px;font-size:13px}
.hint{color:#8f959e;font-size:12px;margin-top:6px}
"""


def _page(title: str, body: str, status: int = 200) -> HTMLResponse:
    doc = (
        '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head><body>"
        f'<div class="box">{body}</div></body></html>'
    )
    return HTMLResponse(doc, status_code=status, headers={"Cache-Control": "no-store", "X-Frame-Options": "DENY"})


def _error_page(message: str, status: int = 400) -> HTMLResponse:
    body = f'<h1>无法登录</h1><p class="sub">域账号登录</p><div class="err" id="error">{html.escape(message)}</div>'
    return _page("无法登录", body, status)


async def _login_page(request: AuthRequest, *, error: str = "", username: str = "") -> HTMLResponse:
    domain = await company.company_domain()
    hidden = "".join(
        f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">' for k, v in request.as_form().items()
    )
    example = f"zhangsan@{domain}" if domain else "zhangsan@landray.com"
    err = f'<div class="err" id="error">{html.escape(error)}</div>' if error else ""
    body = (
        '<h1>域账号登录</h1><p class="sub">使用企业域账号（EKP 账号 + 企业域标识）和密码登录钉钉</p>'
        f'{err}<form method="post" action="/oidc/authorize">{hidden}'
        f'<label for="username">域账号</label><input id="username" name="username" autocomplete="username" '
        f'placeholder="{html.escape(example)}" value="{html.escape(username)}" required autofocus>'
        f'<div class="hint">如 {html.escape(example)}</div>'
        '<label for="password">密码</label><input id="password" name="password" type="password" '
        'autocomplete="current-password" required>'
        '<button type="submit">登录</button></form>'
    )
    return _page("域账号登录", body, 401 if error else 200)


def _client_error(request: AuthRequest | None, exc: OidcError) -> Response:
    if request is not None and exc.redirectable:
        params = {"error": exc.error, "error_description": exc.description}
        if request.state:
            params["state"] = request.state
        mode = "fragment" if request.response_type != "code" else "query"
        return RedirectResponse(login_auth.redirect_url(request.redirect_uri, mode, params), status_code=302)
    return _error_page(exc.description, exc.status)


def _form_post(redirect_uri: str, params: dict[str, str]) -> HTMLResponse:
    fields = "".join(
        f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">' for k, v in params.items()
    )
    body = (
        f'<form method="post" action="{html.escape(redirect_uri)}" id="f">{fields}'
        '<p class="sub">正在返回钉钉…</p><noscript><button type="submit">继续</button></noscript></form>'
        "<script>document.getElementById('f').submit()</script>"
    )
    return _page("正在登录", body)


async def _ip(request: Request) -> str:
    """The client's address; X-Forwarded-For counts only from a trusted proxy (系统设置 > 安全设置)."""
    peer = request.client.host if request.client else ""
    return await security_settings.client_address(peer, request.headers.get("x-forwarded-for", ""))


@router.get("/.well-known/openid-configuration", summary="OIDC 发现文档")
async def openid_configuration() -> JSONResponse:
    return JSONResponse(await login_auth.discovery())


@router.get("/oidc/jwks", summary="id_token 签名公钥 (JWKS)")
async def jwks() -> JSONResponse:
    return JSONResponse(await login_auth.jwks(), headers={"Cache-Control": "public, max-age=300"})


@router.get("/oidc/authorize", summary="授权端点：显示域账号登录页", response_class=HTMLResponse)
async def authorize(request: Request) -> Response:
    try:
        auth_request = await login_auth.check_request(dict(request.query_params))
    except OidcError as exc:
        return _client_error(_partial(dict(request.query_params)), exc)
    return await _login_page(auth_request)


def _partial(params: dict[str, str]) -> AuthRequest | None:
    """The request as far as it is trustworthy for redirecting an error back (only after client checks pass)."""
    if not params.get("redirect_uri"):
        return None
    return AuthRequest(
        client_id=params.get("client_id", ""),
        redirect_uri=params.get("redirect_uri", ""),
        response_type=params.get("response_type", ""),
        scope=params.get("scope", ""),
        state=params.get("state", ""),
    )


@router.post("/oidc/authorize", summary="授权端点：校验域账号和密码", response_class=HTMLResponse)
async def authorize_submit(request: Request, rt: Runtime = Depends(console_runtime)) -> Response:
    form = {k: str(v) for k, v in (await request.form()).items()}
    username, password = form.pop("username", ""), form.pop("password", "")
    try:
        auth_request = await login_auth.check_request(form)
    except OidcError as exc:
        return _client_error(_partial(form), exc)
    try:
        identity = await login_auth.login(auth_request, username, password, await _ip(request), http=rt.http)
    except AuthFailure as exc:
        return await _login_page(auth_request, error=exc.message, username=username)
    mode, params = await login_auth.complete(auth_request, identity)
    if mode == "form_post":
        return _form_post(auth_request.redirect_uri, params)
    return RedirectResponse(login_auth.redirect_url(auth_request.redirect_uri, mode, params), status_code=302)


def _basic_credentials(request: Request) -> tuple[str, str]:
    header = request.headers.get("authorization", "")
    if not header.lower().startswith("basic "):
        return "", ""
    try:
        decoded = base64.b64decode(header[6:]).decode()
    except (ValueError, UnicodeDecodeError):
        return "", ""
    client_id, _, secret = decoded.partition(":")
    return unquote(client_id), unquote(secret)


def _token_error(exc: OidcError) -> JSONResponse:
    headers = {"Cache-Control": "no-store"}
    if exc.status == 401:
        headers["WWW-Authenticate"] = 'Basic realm="oidc"'
    return JSONResponse(
        {"error": exc.error, "error_description": exc.description}, status_code=exc.status, headers=headers
    )


@router.post("/oidc/token", summary="令牌端点：授权码换取 id_token")
async def token(request: Request) -> JSONResponse:
    form = {k: str(v) for k, v in (await request.form()).items()}
    if form.get("grant_type") != "authorization_code":
        return _token_error(OidcError("unsupported_grant_type", "only authorization_code is supported"))
    client_id, client_secret = _basic_credentials(request)
    client_id = client_id or form.get("client_id", "")
    client_secret = client_secret or form.get("client_secret", "")
    try:
        tokens = await login_auth.exchange_code(
            form.get("code", ""),
            client_id,
            client_secret,
            form.get("redirect_uri", ""),
            code_verifier=form.get("code_verifier", ""),
        )
    except OidcError as exc:
        return _token_error(exc)
    return JSONResponse(tokens, headers={"Cache-Control": "no-store", "Pragma": "no-cache"})


@router.get("/oidc/userinfo", summary="用户信息端点")
async def userinfo(request: Request) -> JSONResponse:
    header = request.headers.get("authorization", "")
    access_token = header[7:] if header.lower().startswith("bearer ") else ""
    try:
        return JSONResponse(await login_auth.userinfo(access_token))
    except OidcError as exc:
        return JSONResponse(
            {"error": exc.error, "error_description": exc.description},
            status_code=exc.status,
            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
        )
