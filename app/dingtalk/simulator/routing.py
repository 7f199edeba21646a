"""Route table, request context and the checks every DingTalk call goes through.

A handler is declared once with its real HTTP method and path; the wrapper built here does what DingTalk's
gateway does before the business logic runs: count the call, apply injected faults, parse query + body, check
the access token, the IP allow-list and the per-app per-API QPS, then wrap the handler's dict in the right
envelope (oapi ``errcode``/``errmsg``, topapi adds ``request_id``, v1.0 plain JSON with HTTP status errors).
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import web

from .errors import ApiError, UpstreamFault, V1Error, invalid, missing
from .state import App, Corp, UserToken

if TYPE_CHECKING:
    from .server import Simulator

Handler = Callable[["Ctx"], Awaitable[Any]]


def dumps(value: Any) -> str:
    # DingTalk answers with raw UTF-8 Chinese rather than ASCII escapes.
    return json.dumps(value, ensure_ascii=False)


def request_id() -> str:
    return secrets.token_hex(6)


@dataclass
class Route:
    method: str
    path: str
    handler: Handler
    auth: str  # "token" (app access token), "user" (v1.0 user token), "none" (handler authenticates)

    @property
    def flavour(self) -> str:
        if self.path.startswith("/v1.0/"):
            return "v1"
        if self.path.startswith("/topapi/"):
            return "topapi"
        return "oapi"


@dataclass
class RouteTable:
    routes: list[Route] = field(default_factory=list)

    def add(self, method: str, path: str, *, auth: str = "token") -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            self.routes.append(Route(method, path, handler, auth))
            return handler

        return register

    def get(self, path: str, *, auth: str = "token") -> Callable[[Handler], Handler]:
        return self.add("GET", path, auth=auth)

    def post(self, path: str, *, auth: str = "token") -> Callable[[Handler], Handler]:
        return self.add("POST", path, auth=auth)

    def put(self, path: str, *, auth: str = "token") -> Callable[[Handler], Handler]:
        return self.add("PUT", path, auth=auth)

    def delete(self, path: str, *, auth: str = "token") -> Callable[[Handler], Handler]:
        return self.add("DELETE", path, auth=auth)


@dataclass
class Ctx:
    request: web.Request
    sim: Simulator
    route: Route
    params: dict[str, Any] = field(default_factory=dict)
    corp: Corp | None = None
    app: App | None = None
    user_token: UserToken | None = None

    @property
    def api(self) -> str:
        return self.route.path

    @property
    def v1(self) -> bool:
        return self.route.flavour == "v1"

    @property
    def remote_ip(self) -> str:
        return self.request.remote or ""

    def require_corp(self) -> Corp:
        assert self.corp is not None, "route must authenticate first"
        return self.corp

    def require_app(self) -> App:
        assert self.app is not None, "route must authenticate first"
        return self.app

    # -- gateway checks ---------------------------------------------------------------------------------------

    def bind_app(self, corp: Corp, app: App) -> None:
        """The caller is now known to be ``app``: apply its IP allow-list and its QPS budget for this API."""
        self.corp, self.app = corp, app
        ip = self.remote_ip
        if app.ip_allowlist and ip not in app.ip_allowlist:
            if self.v1:
                raise V1Error(403, "Forbidden.AccessDenied.IpNotInWhiteList", f"访问ip不在白名单之中,request ip={ip}")
            raise ApiError(
                60020,
                "请参考FAQ：https://open.dingtalk.com/document/development/common-errors。"
                f"错误原因：访问ip不在白名单之中,request ip={ip} appKey({app.appkey})",
            )
        limit = self.sim.config.qps_for(self.api)
        if not self.sim.limiter.allow((app.appkey, self.api), limit, time.monotonic()):
            raise qps_error(self.v1, app.appkey, self.api, limit)
        self.sim.counters.hit_app(app.appkey, self.api)

    def authenticate_token(self) -> None:
        if self.v1:
            token = self.request.headers.get("x-acs-dingtalk-access-token", "")
        else:
            token = self.request.query.get("access_token", "")
        info = self.sim.state.tokens.get(token) if token else None
        found = self.sim.state.find_app(info.appkey) if info else None
        if info is None or found is None:
            if self.v1:
                raise V1Error(400, "InvalidAuthentication", "不合法的access_token")
            raise ApiError(40014)
        if info.expires_at <= time.time():
            if self.v1:
                raise V1Error(400, "InvalidAuthentication", "access_token已过期")
            raise ApiError(42001)
        self.bind_app(*found)

    def authenticate_user_token(self) -> None:
        token = self.request.headers.get("x-acs-dingtalk-access-token", "")
        info = self.sim.state.user_tokens.get(token) if token else None
        if info is None or info.expires_at <= time.time() or info.corpid not in self.sim.state.corps:
            raise V1Error(400, "InvalidAuthentication", "不合法的access_token")
        corp = self.sim.state.corps[info.corpid]
        app = corp.apps.get(info.appkey) or corp.default_app()
        self.user_token = info
        self.bind_app(corp, app)

    # -- parameters (oapi: 40035 on anything missing or malformed) --------------------------------------------

    def has(self, name: str) -> bool:
        value = self.params.get(name)
        return value is not None and value != ""

    def text(self, name: str, *, required: bool = False, default: str = "") -> str:
        value = self.params.get(name)
        if value is None or value == "":
            if required:
                raise missing(name)
            return default
        return str(value)

    def integer(self, name: str, *, required: bool = False, default: int | None = None) -> int | None:
        value = self.params.get(name)
        if value is None or value == "":
            if required:
                raise missing(name)
            return default
        if isinstance(value, bool):
            raise invalid(name)
        try:
            return int(value)
        except (TypeError, ValueError):
            raise invalid(name) from None

    def flag(self, name: str, *, default: bool | None = None) -> bool | None:
        value = self.params.get(name)
        if value is None or value == "":
            return default
        return to_bool(value, name)

    def structured(self, name: str, *, required: bool = False) -> Any:
        """A structured parameter: JSON bodies carry it as an object, form bodies as JSON text."""
        value = self.params.get(name)
        if value is None or value == "":
            if required:
                raise missing(name)
            return None
        if isinstance(value, str):
            try:
                return json.loads(value)
            except ValueError:
                raise invalid(name) from None
        return value


def to_bool(value: Any, name: str = "value") -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return bool(value)
    text = str(value).strip().lower()
    if text in ("true", "1"):
        return True
    if text in ("false", "0"):
        return False
    raise invalid(name)


def qps_error(v1: bool, appkey: str, api: str, limit: int) -> Exception:
    if v1:
        return V1Error(403, "Forbidden.AccessDenied.QpsLimitForAppkeyAndApi", "当前应用调用该接口的qps超过上限")
    return ApiError(
        90018,
        f"当前应用调用该接口的请求频率超过限制，请稍后重试, appKey({appkey}) apiPath({api}) qps({limit})",
    )


async def read_params(request: web.Request, flavour: str) -> dict[str, Any]:
    """Query parameters merged with the body (JSON object or form), body winning."""
    params: dict[str, Any] = {k: v for k, v in request.query.items() if k != "access_token"}
    if request.method not in ("POST", "PUT") or not request.can_read_body:
        return params
    raw = await request.read()
    if not raw.strip():
        return params
    content_type = request.content_type
    if content_type == "application/x-www-form-urlencoded":
        form = await request.post()
        params.update({k: v for k, v in form.items() if isinstance(v, str)})
        return params
    try:
        body = json.loads(raw)
    except ValueError:
        if flavour == "v1":
            raise V1Error(400, "invalidParameter", "请求体不是合法的JSON") from None
        raise ApiError(43009) from None
    if not isinstance(body, dict):
        if flavour == "v1":
            raise V1Error(400, "invalidParameter", "请求体必须是JSON对象")
        raise ApiError(43009)
    params.update(body)
    return params


def envelope_ok(route: Route, result: dict[str, Any] | None) -> web.Response:
    if route.flavour == "v1":
        return web.json_response(result or {}, dumps=dumps)
    body: dict[str, Any] = {"errcode": 0, "errmsg": "ok", **(result or {})}
    if route.flavour == "topapi":
        body["request_id"] = request_id()
    return web.json_response(body, dumps=dumps)


def envelope_error(route: Route, exc: ApiError | V1Error) -> web.Response:
    if isinstance(exc, V1Error):
        body = {"code": exc.code, "requestid": request_id().upper(), "message": exc.message, **exc.extra}
        return web.json_response(body, status=exc.status, dumps=dumps)
    body = exc.body()
    if route.flavour == "topapi":
        body["request_id"] = request_id()
    return web.json_response(body, dumps=dumps)


def fault_response(exc: UpstreamFault) -> web.Response:
    # A gateway failure is not JSON; clients must cope with an HTML body.
    text = f"<html><body><h1>{exc.status} Bad Gateway</h1></body></html>"
    return web.Response(status=exc.status, text=text, content_type="text/html")


def build_handler(route: Route) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def handle(request: web.Request) -> web.StreamResponse:
        from .server import SIM_KEY

        sim = request.app[SIM_KEY]
        ctx = Ctx(request=request, sim=sim, route=route)
        sim.counters.hit(route.path)
        try:
            await sim.faults.before_call(route.path, route.flavour == "v1")
            ctx.params = await read_params(request, route.flavour)
            if route.auth == "token":
                ctx.authenticate_token()
            elif route.auth == "user":
                ctx.authenticate_user_token()
            result = await route.handler(ctx)
        except (ApiError, V1Error) as exc:
            sim.counters.error(route.path, exc.errcode if isinstance(exc, ApiError) else exc.code)
            return envelope_error(route, exc)
        except UpstreamFault as exc:
            sim.counters.error(route.path, f"HTTP {exc.status}")
            return fault_response(exc)
        if isinstance(result, web.StreamResponse):
            return result
        return envelope_ok(route, result)

    return handle


def wrong_method_handler(route_method: str) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def handle(request: web.Request) -> web.StreamResponse:
        errcode = 43002 if route_method == "POST" else 43001
        body: dict[str, Any] = ApiError(errcode).body()
        if request.path.startswith("/topapi/"):
            body["request_id"] = request_id()
        return web.json_response(body, dumps=dumps)

    return handle
