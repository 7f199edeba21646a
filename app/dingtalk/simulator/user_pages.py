"""Browser pages showing what a person sees in the DingTalk client: 工作通知, 待办 (legacy work records and v1.0
todos), and a 工作台 that opens an app URL with an in-app auth code, the way the client's JSAPI hands one over.

- ``/_sim/ui/users?corpid=``: the org's people, each linking to their page;
- ``/_sim/ui/users/{userid}?corpid=&app=<url>``: one person's messages and todos (refreshes every 3 s);
- ``/_sim/ui/workbench?corpid=&userid=&url=``: 302 to ``url`` with ``code=<auth code>`` (single use, 5 min).
"""

from __future__ import annotations

import html
from datetime import datetime
from typing import TYPE_CHECKING, Any

from aiohttp import web
from yarl import URL

from .auth import issue_code
from .messages import user_messages

if TYPE_CHECKING:
    from .server import Simulator
    from .state import Corp

_STYLE = """body{font-family:"Noto Sans CJK SC","PingFang SC",sans-serif;background:#f2f3f5;margin:0;color:#222}
header{background:#1f5fbf;color:#fff;padding:12px 20px;font-size:17px}main{padding:16px 20px;max-width:980px}
section{background:#fff;border-radius:8px;padding:12px 16px;margin-bottom:14px}h2{font-size:15px;margin:4px 0 10px}
.msg{border:1px solid #e5e6eb;border-radius:6px;margin:8px 0;overflow:hidden}.head{color:#fff;padding:6px 10px}
.body{padding:8px 10px}.bar{padding:4px 10px;font-size:13px;color:#fff}.muted{color:#888;font-size:12px}
.done{color:#3a9a3a}.open{color:#d9534f}li{margin:4px 0}a{color:#1f5fbf}"""


def _sim(request: web.Request) -> Simulator:
    from .server import SIM_KEY

    return request.app[SIM_KEY]


def _corp(request: web.Request) -> Corp:
    sim = _sim(request)
    corpid = request.query.get("corpid")
    try:
        return sim.corp(corpid or None)
    except KeyError:
        raise web.HTTPNotFound(text="unknown corpid") from None


def _when(ms: Any) -> str:
    return datetime.fromtimestamp(int(ms) / 1000).strftime("%Y-%m-%d %H:%M:%S") if ms else ""


def _e(value: Any) -> str:
    return html.escape(str(value or ""))


def _colour(argb: str) -> str:
    value = (argb or "FF1E6FD9").replace("0x", "").replace("0X", "")
    return f"#{value[-6:]}" if len(value) >= 6 else "#1E6FD9"


def _page(title: str, body: str, refresh: bool = False) -> web.Response:
    meta = '<meta http-equiv="refresh" content="3">' if refresh else ""
    text = (
        f"<!doctype html><html><head><meta charset='utf-8'>{meta}<title>{_e(title)}</title>"
        f"<style>{_STYLE}</style></head><body><header>钉钉（模拟） · {_e(title)}</header>"
        f"<main>{body}</main></body></html>"
    )
    return web.Response(text=text, content_type="text/html")


def _message_html(item: dict[str, Any]) -> str:
    msg = item["msg"]
    kind = msg.get("msgtype")
    sent = f"<div class='muted'>{_when(item['sent_at'])}{' · 已撤回' if item.get('recalled') else ''}</div>"
    if kind == "oa":
        oa = msg.get("oa") or {}
        head = oa.get("head") or {}
        body = oa.get("body") or {}
        form = "".join(f"<div>{_e(f.get('key'))} {_e(f.get('value'))}</div>" for f in body.get("form") or [])
        bar = oa.get("status_bar") or {}
        bar_colour = _colour(bar.get("status_bg", ""))
        bar_html = (
            f"<div class='bar' style='background:{bar_colour}'>{_e(bar.get('status_value'))}</div>" if bar else ""
        )
        link = oa.get("pc_message_url") or oa.get("message_url") or ""
        return (
            f"<div class='msg'><div class='head' style='background:{_colour(head.get('bgcolor', ''))}'>"
            f"{_e(head.get('text'))}</div><div class='body'><b><a href='{_e(link)}'>{_e(body.get('title'))}</a></b>"
            f"{form}<div class='muted'>{_e(body.get('author'))}</div>{sent}</div>{bar_html}</div>"
        )
    content = (msg.get(kind) or {}) if isinstance(msg.get(kind), dict) else {}
    text = content.get("content") or content.get("text") or content.get("title") or kind
    return f"<div class='msg'><div class='body'>{_e(text)}{sent}</div></div>"


async def users_page(request: web.Request) -> web.StreamResponse:
    corp = _corp(request)
    app = request.query.get("app", "")
    rows = "".join(
        f"<li><a href='{_e(URL('/_sim/ui/users/' + u.userid).with_query(corpid=corp.corpid, app=app))}'>"
        f"{_e(u.name)}</a> <span class='muted'>{_e(u.userid)}</span></li>"
        for u in sorted(corp.users.values(), key=lambda u: u.seq)
    )
    return _page(
        f"{corp.name} · 通讯录", f"<section><h2>选择一个人，查看他在钉钉里收到的内容</h2><ul>{rows}</ul></section>"
    )


async def user_page(request: web.Request) -> web.StreamResponse:
    corp = _corp(request)
    user = corp.users.get(request.match_info["userid"])
    if user is None:
        raise web.HTTPNotFound(text="unknown user")
    app = request.query.get("app", "")
    parts = []
    if app:
        open_url = URL("/_sim/ui/workbench").with_query(corpid=corp.corpid, userid=user.userid, url=app)
        parts.append(f"<section><h2>工作台</h2><a href='{_e(open_url)}'>在钉钉中打开应用（免登录）</a></section>")
    messages = sorted(user_messages(corp, user.userid), key=lambda m: -m["sent_at"])
    parts.append(
        "<section><h2>工作通知</h2>"
        + ("".join(_message_html(m) for m in messages) or "<div class='muted'>暂无工作通知</div>")
        + "</section>"
    )
    todos = [
        t
        for t in corp.todos
        if not t.get("deleted") and user.unionid in (t["ownerUnionId"], *t["executorIds"], *t["participantIds"])
    ]
    todo_rows = "".join(
        f"<li><span class='{'done' if t['done'] else 'open'}'>{'已完成' if t['done'] else '待处理'}</span> "
        f"<a href='{_e((t.get('detailUrl') or {}).get('pcUrl'))}'>{_e(t['subject'])}</a> "
        f"<span class='muted'>{_when(t['createdTime'])}</span></li>"
        for t in sorted(todos, key=lambda t: -t["createdTime"])
    )
    parts.append(f"<section><h2>待办（钉钉待办）</h2><ul>{todo_rows or '<li class=muted>暂无待办</li>'}</ul></section>")
    records = [r for r in corp.workrecords if r["userid"] == user.userid]
    record_rows = "".join(
        f"<li><span class='{'done' if r['status'] else 'open'}'>{'已处理' if r['status'] else '待处理'}</span> "
        f"<a href='{_e(r.get('pcUrl') or r['url'])}'>{_e(r['title'])}</a> "
        f"<span class='muted'>{_e(r.get('source_name'))} {_when(r['create_time'])}</span></li>"
        for r in sorted(records, key=lambda r: -r["created_at"])
    )
    parts.append(f"<section><h2>待办事项（旧版）</h2><ul>{record_rows or '<li class=muted>暂无</li>'}</ul></section>")
    return _page(f"{user.name} 的钉钉", "".join(parts), refresh=True)


async def workbench(request: web.Request) -> web.StreamResponse:
    corp = _corp(request)
    userid = request.query.get("userid", "")
    target = request.query.get("url", "")
    if userid not in corp.users or not target.startswith(("http://", "https://")):
        return web.Response(status=400, text="userid must be a user of the corp and url an http(s) address")
    appkey = request.query.get("appkey") or next(iter(corp.apps))
    code = issue_code(_sim(request), corp, userid, "auth", appkey)
    raise web.HTTPFound(str(URL(target).update_query(code=code)))


def setup(app: web.Application) -> None:
    app.router.add_get("/_sim/ui/users", users_page)
    app.router.add_get("/_sim/ui/users/{userid}", user_page)
    app.router.add_get("/_sim/ui/workbench", workbench)
