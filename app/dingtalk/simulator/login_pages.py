"""Browser-facing login pages standing in for login.dingtalk.com and the legacy QR connect page.

A real user would scan a QR code or confirm in the DingTalk app; here the page lists the org's people and
clicking one redirects to ``redirect_uri`` with a fresh one-shot code, the way DingTalk does after consent.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

from aiohttp import web
from yarl import URL

from .auth import issue_code

if TYPE_CHECKING:
    from .server import Simulator

MAX_LISTED = 60


def _sim(request: web.Request) -> Simulator:
    from .server import SIM_KEY

    return request.app[SIM_KEY]


async def _page(request: web.Request, *, kind: str, client_param: str, code_param: str) -> web.StreamResponse:
    sim = _sim(request)
    client_id = request.query.get(client_param, "")
    redirect_uri = request.query.get("redirect_uri", "")
    state = request.query.get("state", "")
    found = sim.state.find_app(client_id)
    if found is None or not redirect_uri:
        return web.Response(status=400, text="invalid client_id or redirect_uri")
    corp, app = found
    userid = request.query.get("userid")
    if userid:
        if userid not in corp.users:
            return web.Response(status=400, text="unknown user")
        code = issue_code(sim, corp, userid, kind, app.appkey)
        params = {code_param: code, "state": state}
        if kind == "oauth2":
            params["code"] = code  # login.dingtalk.com sends both names with the same value
        raise web.HTTPFound(str(URL(redirect_uri).update_query(params)))
    people = sorted(corp.users.values(), key=lambda u: (not u.admin, u.seq))[:MAX_LISTED]
    rows = "".join(
        f'<li><a href="{html.escape(str(request.url.update_query(userid=u.userid)))}">'
        f"{html.escape(u.name)}</a> <small>{html.escape(u.title)} {html.escape(u.mobile)}</small></li>"
        for u in people
    )
    body = (
        "<!doctype html><html><head><meta charset='utf-8'><title>钉钉登录（模拟）</title></head><body>"
        f"<h3>{html.escape(corp.name)} - 选择登录身份（模拟钉钉扫码）</h3><ul>{rows}</ul></body></html>"
    )
    return web.Response(text=body, content_type="text/html")


async def oauth2_auth(request: web.Request) -> web.StreamResponse:
    return await _page(request, kind="oauth2", client_param="client_id", code_param="authCode")


async def qrconnect(request: web.Request) -> web.StreamResponse:
    return await _page(request, kind="sns", client_param="appid", code_param="code")


def setup(app: web.Application) -> None:
    app.router.add_get("/oauth2/auth", oauth2_auth)
    app.router.add_get("/connect/qrconnect", qrconnect)
    app.router.add_get("/connect/oauth2/sns_authorize", qrconnect)
