"""The ``/_sim/`` control API (JSON): act as a DingTalk admin, inject faults, inspect what apps pushed, manage state.

Not part of DingTalk. Errors are HTTP 4xx with ``{"errcode": n, "errmsg": "..."}`` (DingTalk's own codes when a
contact rule is broken) or ``{"error": "..."}`` for control-level mistakes.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aiohttp import web

from .auth import issue_code
from .departments import render_v2 as render_dept
from .directory import Directory
from .errors import ApiError
from .faults import LatencyFault, TransientFault
from .messages import user_messages
from .routing import dumps
from .state import App, Corp
from .users import render_v2 as render_user

if TYPE_CHECKING:
    from .server import Simulator

ControlHandler = Callable[[web.Request], Awaitable[Any]]


class ControlError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def sim_of(request: web.Request) -> Simulator:
    from .server import SIM_KEY

    return request.app[SIM_KEY]


async def body_of(request: web.Request) -> dict[str, Any]:
    if not request.can_read_body:
        return {}
    raw = await request.read()
    if not raw.strip():
        return {}
    try:
        data = json.loads(raw)
    except ValueError:
        raise ControlError(400, "body must be JSON") from None
    if not isinstance(data, dict):
        raise ControlError(400, "body must be a JSON object")
    return data


def corp_of(request: web.Request) -> Corp:
    corp = sim_of(request).state.corps.get(request.match_info["corpid"])
    if corp is None:
        raise ControlError(404, f"unknown corp {request.match_info['corpid']}")
    return corp


def app_of(corp: Corp, appkey: str | None) -> App:
    if not appkey:
        return corp.default_app()
    app = corp.apps.get(appkey)
    if app is None:
        raise ControlError(404, f"unknown app {appkey}")
    return app


def wrap(handler: ControlHandler) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def handle(request: web.Request) -> web.StreamResponse:
        try:
            result = await handler(request)
        except ControlError as exc:
            return web.json_response({"error": exc.message}, status=exc.status, dumps=dumps)
        except ApiError as exc:
            return web.json_response(exc.body(), status=400, dumps=dumps)
        if isinstance(result, web.StreamResponse):
            return result
        return web.json_response(result if result is not None else {"ok": True}, dumps=dumps)

    return handle


# -- sim-wide ---------------------------------------------------------------------------------------------------


async def health(request: web.Request) -> Any:
    return {"ok": True, "corps": list(sim_of(request).state.corps)}


async def list_corps(request: web.Request) -> Any:
    return [
        {
            "corpid": corp.corpid,
            "name": corp.name,
            "apps": [{"appkey": a.appkey, "appsecret": a.appsecret, "agentid": a.agentid} for a in corp.apps.values()],
            "department_count": len(corp.departments),
            "user_count": len(corp.users),
        }
        for corp in sim_of(request).state.corps.values()
    ]


async def reset(request: web.Request) -> Any:
    data = await body_of(request)
    sim = sim_of(request)
    await sim.dispatcher.close()
    sim.reset(demo=data.get("demo"), seed=data.get("seed"))
    return {"ok": True}


async def get_config(request: web.Request) -> Any:
    from dataclasses import asdict

    return asdict(sim_of(request).config)


async def set_config(request: web.Request) -> Any:
    sim = sim_of(request)
    sim.config.update(await body_of(request))
    return await get_config(request)


async def expire_tokens(request: web.Request) -> Any:
    data = await body_of(request)
    sim = sim_of(request)
    count = 0
    for info in sim.state.tokens.values():
        if (not data.get("appkey") or info.appkey == data["appkey"]) and info.expires_at > time.time():
            info.expires_at = time.time() - 1
            count += 1
    return {"expired": count}


async def counters(request: web.Request) -> Any:
    return sim_of(request).counters.snapshot()


async def reset_counters(request: web.Request) -> Any:
    sim_of(request).counters.reset()
    return {"ok": True}


async def get_state(request: web.Request) -> Any:
    return sim_of(request).dump()


async def put_state(request: web.Request) -> Any:
    sim_of(request).load(await body_of(request))
    return {"ok": True}


async def save_state(request: web.Request) -> Any:
    path = (await body_of(request)).get("path")
    if not path:
        raise ControlError(400, "path is required")
    text = json.dumps(sim_of(request).dump(), ensure_ascii=False, indent=1)
    await asyncio.to_thread(Path(path).write_text, text, encoding="utf-8")
    return {"ok": True, "path": path}


async def load_state(request: web.Request) -> Any:
    path = (await body_of(request)).get("path")
    try:
        text = await asyncio.to_thread(Path(path).read_text, encoding="utf-8") if path else None
    except OSError:
        text = None
    if text is None:
        raise ControlError(400, "path must name a readable state file")
    sim_of(request).load(json.loads(text))
    return {"ok": True}


# -- faults -----------------------------------------------------------------------------------------------------


async def get_faults(request: web.Request) -> Any:
    return sim_of(request).faults.snapshot()


async def clear_faults(request: web.Request) -> Any:
    sim_of(request).faults.clear()
    return {"ok": True}


async def mobile_fault(request: web.Request) -> Any:
    data = await body_of(request)
    errcode = int(data.get("errcode", 40103))
    mobile = str(data.get("mobile") or "")
    if not mobile:
        raise ControlError(400, "mobile is required")
    faults = sim_of(request).faults
    key = (str(data.get("corpid") or "*"), mobile)
    if errcode == 0:
        faults.mobile_errors.pop(key, None)
    else:
        faults.mobile_errors[key] = errcode
    return faults.snapshot()


async def transient_fault(request: web.Request) -> Any:
    data = await body_of(request)
    fault = TransientFault(
        apis=list(data.get("apis") or []),
        rate=float(data.get("rate", 1.0)),
        errors=[int(e) for e in data.get("errors") or [-1]],
        remaining=int(data["count"]) if data.get("count") is not None else None,
    )
    faults = sim_of(request).faults
    if data.get("seed") is not None:
        faults.rng.seed(data["seed"])
    faults.transient.append(fault)
    return faults.snapshot()


async def latency_fault(request: web.Request) -> Any:
    data = await body_of(request)
    faults = sim_of(request).faults
    faults.latency.append(LatencyFault(apis=list(data.get("apis") or []), ms=int(data.get("ms", 0))))
    return faults.snapshot()


# -- per corp: admin console actions ----------------------------------------------------------------------------


def directory(request: web.Request, data: dict[str, Any] | None = None) -> Directory:
    operator = (data or {}).pop("operator", None)
    corp = corp_of(request)
    if operator is None:
        operator = next((u.userid for u in corp.users.values() if u.sys_level == 1), None)
    return Directory(sim_of(request), corp, operator=operator)


async def list_departments(request: web.Request) -> Any:
    corp = corp_of(request)
    return [render_dept(corp, d) for d in sorted(corp.departments.values(), key=lambda d: d.seq)]


async def add_department(request: web.Request) -> Any:
    data = await body_of(request)
    fields = {**data, "parent_id": data.get("parent_id", 1)}
    managers = fields.pop("dept_manager_userid_list", None)
    dirs = directory(request, fields)
    dept = dirs.create_department(fields)
    if managers:
        dept = dirs.update_department(dept.dept_id, {"dept_manager_userid_list": managers})
    return render_dept(dirs.corp, dept)


async def update_department(request: web.Request) -> Any:
    data = await body_of(request)
    dirs = directory(request, data)
    dept = dirs.update_department(int(request.match_info["dept_id"]), data)
    return render_dept(dirs.corp, dept)


async def delete_department(request: web.Request) -> Any:
    directory(request).delete_department(int(request.match_info["dept_id"]))
    return {"ok": True}


async def list_users(request: web.Request) -> Any:
    corp = corp_of(request)
    dept_id = request.query.get("dept_id")
    people = corp.members(int(dept_id)) if dept_id else sorted(corp.users.values(), key=lambda u: u.seq)
    return [render_user(corp, u) for u in people]


async def add_user(request: web.Request) -> Any:
    data = await body_of(request)
    data.setdefault("dept_id_list", [1])
    count = int(data.pop("count", 1))
    dirs = directory(request, data)
    if count == 1:
        return render_user(dirs.corp, dirs.create_user(data))
    # Bulk add for paging tests: names and mobiles are numbered from the given ones.
    base_mobile = int(data.pop("mobile", "13000000000"))
    name = data.pop("name", "测试用户")
    created = []
    for index in range(count):
        user = dirs.create_user({**data, "name": f"{name}{index + 1}", "mobile": str(base_mobile + index)})
        created.append(user.userid)
    return {"userids": created}


async def update_user(request: web.Request) -> Any:
    data = await body_of(request)
    dirs = directory(request, data)
    # An admin in the console may change a mobile; the API may not (40022).
    user = dirs.update_user(request.match_info["userid"], data, allow_mobile=True)
    return render_user(dirs.corp, user)


async def delete_user(request: web.Request) -> Any:
    directory(request).delete_user(request.match_info["userid"])
    return {"ok": True}


async def set_admin(request: web.Request) -> Any:
    data = await body_of(request)
    dirs = directory(request, data)
    user = dirs.set_admin(request.match_info["userid"], int(data.get("sys_level", 2)))
    return render_user(dirs.corp, user)


async def set_ip_allowlist(request: web.Request) -> Any:
    data = await body_of(request)
    app = app_of(corp_of(request), data.get("appkey"))
    ips = data.get("ips") or []
    if not isinstance(ips, list):
        raise ControlError(400, "ips must be a list")
    app.ip_allowlist = [str(ip) for ip in ips]
    return {"appkey": app.appkey, "ips": app.ip_allowlist}


async def login_code(request: web.Request) -> Any:
    data = await body_of(request)
    corp = corp_of(request)
    userid = data.get("userid")
    if not userid or userid not in corp.users:
        raise ControlError(400, "userid must name a user of this corp")
    kind = data.get("kind", "auth")
    if kind not in ("auth", "sns", "oauth2"):
        raise ControlError(400, "kind must be auth, sns or oauth2")
    app = app_of(corp, data.get("appkey"))
    return {"code": issue_code(sim_of(request), corp, userid, kind, app.appkey), "kind": kind}


# -- per corp: callbacks ----------------------------------------------------------------------------------------


async def drop_callbacks(request: web.Request) -> Any:
    data = await body_of(request)
    app = app_of(corp_of(request), data.get("appkey"))
    app.callback_drop_next = int(data.get("count", 1))
    return {"appkey": app.appkey, "drop_next": app.callback_drop_next}


async def callback_style(request: web.Request) -> Any:
    data = await body_of(request)
    app = app_of(corp_of(request), data.get("appkey"))
    style = data.get("style")
    if style not in ("legacy", "console"):
        raise ControlError(400, "style must be legacy or console")
    app.callback_style = style
    return {"appkey": app.appkey, "style": style}


async def callback_log(request: web.Request) -> Any:
    corp = corp_of(request)
    return [entry for entry in sim_of(request).dispatcher.log if entry["corpid"] == corp.corpid]


async def callback_failed(request: web.Request) -> Any:
    corp = corp_of(request)
    return {a.appkey: list(a.failed_events) for a in corp.apps.values()}


async def callback_info(request: web.Request) -> Any:
    corp = corp_of(request)
    return {
        a.appkey: {
            "registration": None if a.callback is None else a.callback.__dict__,
            "style": a.callback_style,
            "drop_next": a.callback_drop_next,
            "failed": len(a.failed_events),
        }
        for a in corp.apps.values()
    }


async def wait_callbacks(request: web.Request) -> Any:
    data = await body_of(request)
    left = await sim_of(request).dispatcher.wait_idle(float(data.get("timeout", 30)))
    return {"pending": left}


# -- per corp: what apps pushed to people ----------------------------------------------------------------------


async def workrecords(request: web.Request) -> Any:
    corp = corp_of(request)
    userid = request.query.get("userid")
    return [
        {k: v for k, v in r.items() if k != "content_key"}
        for r in corp.workrecords
        if not userid or r["userid"] == userid
    ]


async def todos(request: web.Request) -> Any:
    corp = corp_of(request)
    unionid = request.query.get("unionid")
    return [
        t
        for t in corp.todos
        if not unionid or unionid == t["ownerUnionId"] or unionid in t["executorIds"] or unionid in t["participantIds"]
    ]


async def messages(request: web.Request) -> Any:
    corp = corp_of(request)
    userid = request.query.get("userid")
    if userid:
        return user_messages(corp, userid)
    return [{k: v for k, v in t.items() if k != "content"} for t in corp.message_tasks]


def setup(app: web.Application) -> None:
    add = app.router.add_route
    table: list[tuple[str, str, ControlHandler]] = [
        ("GET", "/_sim/health", health),
        ("GET", "/_sim/corps", list_corps),
        ("POST", "/_sim/reset", reset),
        ("GET", "/_sim/config", get_config),
        ("POST", "/_sim/config", set_config),
        ("POST", "/_sim/tokens/expire", expire_tokens),
        ("GET", "/_sim/counters", counters),
        ("DELETE", "/_sim/counters", reset_counters),
        ("GET", "/_sim/state", get_state),
        ("PUT", "/_sim/state", put_state),
        ("POST", "/_sim/state/save", save_state),
        ("POST", "/_sim/state/load", load_state),
        ("GET", "/_sim/faults", get_faults),
        ("DELETE", "/_sim/faults", clear_faults),
        ("POST", "/_sim/faults/mobile", mobile_fault),
        ("POST", "/_sim/faults/transient", transient_fault),
        ("POST", "/_sim/faults/latency", latency_fault),
        ("POST", "/_sim/callbacks/wait", wait_callbacks),
        ("GET", "/_sim/corps/{corpid}/departments", list_departments),
        ("POST", "/_sim/corps/{corpid}/departments", add_department),
        ("PATCH", "/_sim/corps/{corpid}/departments/{dept_id}", update_department),
        ("DELETE", "/_sim/corps/{corpid}/departments/{dept_id}", delete_department),
        ("GET", "/_sim/corps/{corpid}/users", list_users),
        ("POST", "/_sim/corps/{corpid}/users", add_user),
        ("PATCH", "/_sim/corps/{corpid}/users/{userid}", update_user),
        ("DELETE", "/_sim/corps/{corpid}/users/{userid}", delete_user),
        ("POST", "/_sim/corps/{corpid}/users/{userid}/admin", set_admin),
        ("PUT", "/_sim/corps/{corpid}/ip_allowlist", set_ip_allowlist),
        ("POST", "/_sim/corps/{corpid}/login_codes", login_code),
        ("GET", "/_sim/corps/{corpid}/callbacks", callback_info),
        ("POST", "/_sim/corps/{corpid}/callbacks/drop", drop_callbacks),
        ("PUT", "/_sim/corps/{corpid}/callbacks/style", callback_style),
        ("GET", "/_sim/corps/{corpid}/callbacks/log", callback_log),
        ("GET", "/_sim/corps/{corpid}/callbacks/failed", callback_failed),
        ("GET", "/_sim/corps/{corpid}/workrecords", workrecords),
        ("GET", "/_sim/corps/{corpid}/todos", todos),
        ("GET", "/_sim/corps/{corpid}/messages", messages),
    ]
    for method, path, handler in table:
        add(method, path, wrap(handler))
