"""The simulator object, its aiohttp application and the ``start_simulator`` entry point.

One port serves both DingTalk hosts: oapi paths (``/gettoken``, ``/topapi/...``, ``/user/...``) and api-host
paths (``/v1.0/...``), plus the ``/_sim/`` control API used by tests and the demo.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field
from typing import Any

from aiohttp import web

from . import auth, callbacks, control, departments, exclusive, login_pages, messages, status_bar, user_pages, users
from .delivery import CallbackDispatcher
from .errors import ApiError
from .faults import Counters, Faults, QpsLimiter
from .routing import build_handler, dumps, request_id, wrong_method_handler
from .seed import CorpSpec, build_corps
from .state import Corp, SimState

log = logging.getLogger(__name__)

SIM_KEY: web.AppKey[Simulator] = web.AppKey("dingtalk_simulator")
API_MODULES = (auth, departments, users, callbacks, messages, exclusive, status_bar)


@dataclass
class SimConfig:
    qps: int = 20
    qps_per_api: dict[str, int] = field(default_factory=dict)
    time_scale: float = 1.0
    token_ttl: float = 7200.0  # seconds as DingTalk counts them; real lifetime = token_ttl * time_scale
    code_ttl: float = 300.0
    callback_timeout: float | None = None  # None = DingTalk's deadline for the push style (1.5 s / 2.5 s)

    def qps_for(self, api: str) -> int:
        return self.qps_per_api.get(api, self.qps)

    def update(self, changes: dict[str, Any]) -> None:
        for name in ("qps", "time_scale", "token_ttl", "code_ttl", "callback_timeout", "qps_per_api"):
            if name in changes:
                setattr(self, name, changes[name])


class Simulator:
    def __init__(
        self, specs: list[CorpSpec], *, qps: int = 20, time_scale: float = 1.0, demo: bool = False, seed: int = 1
    ) -> None:
        if not specs:
            raise ValueError("the simulator needs at least one corp")
        self.specs = specs
        self.demo = demo
        self.seed = seed
        self.config = SimConfig(qps=qps, time_scale=time_scale)
        self.state = SimState(corps=build_corps(specs, demo=demo, seed=seed))
        self.faults = Faults(seed)
        self.limiter = QpsLimiter()
        self.counters = Counters()
        self.dispatcher = CallbackDispatcher(self)

    def corp(self, corpid: str | None = None) -> Corp:
        if corpid is None:
            return next(iter(self.state.corps.values()))
        corp = self.state.corps.get(corpid)
        if corp is None:
            raise KeyError(corpid)
        return corp

    def reset(self, *, demo: bool | None = None, seed: int | None = None) -> None:
        self.demo = self.demo if demo is None else demo
        self.seed = self.seed if seed is None else seed
        self.state = SimState(corps=build_corps(self.specs, demo=self.demo, seed=self.seed))
        self.faults.clear()
        self.limiter.reset()
        self.counters.reset()
        self.dispatcher.log.clear()

    def dump(self) -> dict[str, Any]:
        return {**self.state.to_json(), "config": asdict(self.config)}

    def load(self, data: dict[str, Any]) -> None:
        self.state = SimState.from_json(data)
        if isinstance(data.get("config"), dict):
            self.config.update(data["config"])
        self.limiter.reset()

    def build_app(self) -> web.Application:
        app = web.Application(middlewares=[not_found_middleware], client_max_size=8 * 1024**2)
        app[SIM_KEY] = self
        methods_by_path: dict[str, set[str]] = {}
        for module in API_MODULES:
            for route in module.routes.routes:
                app.router.add_route(route.method, route.path, build_handler(route))
                methods_by_path.setdefault(route.path, set()).add(route.method)
        # oapi answers a wrong HTTP method with an errcode (43001 GET required / 43002 POST required).
        for path, methods in methods_by_path.items():
            if path.startswith("/v1.0/") or len(methods) != 1:
                continue
            (method,) = methods
            other = "POST" if method == "GET" else "GET"
            app.router.add_route(other, path, wrong_method_handler(method))
        control.setup(app)
        exclusive.setup_control(app)
        login_pages.setup(app)
        user_pages.setup(app)
        app.on_cleanup.append(self._on_cleanup)
        return app

    async def _on_cleanup(self, _app: web.Application) -> None:
        await self.dispatcher.close()


@web.middleware
async def not_found_middleware(request: web.Request, handler: Any) -> web.StreamResponse:
    try:
        return await handler(request)
    except web.HTTPNotFound:
        path = request.path
        if path.startswith("/topapi/"):
            api_name = "dingtalk.oapi." + path[len("/topapi/") :].replace("/", ".")
            body = {
                "errcode": 22,
                "sub_msg": f"不合法ApiName，ApiName = {api_name}",
                "errmsg": f"Invalid method[submsg=不合法ApiName，ApiName = {api_name}]",
                "request_id": request_id(),
            }
            return web.json_response(body, dumps=dumps)
        if path.startswith("/v1.0/"):
            body = {"code": "InvalidAction.NotFound", "requestid": request_id().upper(), "message": "接口不存在"}
            return web.json_response(body, status=404, dumps=dumps)
        if path.startswith("/_sim/"):
            raise
        return web.json_response(ApiError(404, "请求的URI地址不存在").body(), status=404, dumps=dumps)


@dataclass
class SimulatorHandle:
    sim: Simulator
    runner: web.AppRunner
    base_url: str
    host: str
    port: int

    @property
    def state(self) -> SimState:
        return self.sim.state

    def corp(self, corpid: str | None = None) -> Corp:
        return self.sim.corp(corpid)

    async def wait_deliveries(self, max_wait: float = 30.0) -> int:
        """Wait until every pending callback push (with its retries) is done; returns how many are left."""
        return await self.sim.dispatcher.wait_idle(max_wait)

    async def close(self) -> None:
        await self.sim.dispatcher.close()
        await self.runner.cleanup()


def parse_corps(corps: list[str] | list[CorpSpec] | str) -> list[CorpSpec]:
    if isinstance(corps, str):
        corps = [corps]
    return [c if isinstance(c, CorpSpec) else CorpSpec.parse(c) for c in corps]


async def start_simulator(
    *,
    corps: list[str] | list[CorpSpec] | str,
    host: str = "127.0.0.1",
    port: int = 0,
    qps: int = 20,
    time_scale: float = 1.0,
    demo: bool = False,
    seed: int = 1,
) -> SimulatorHandle:
    """Start the simulator on ``host:port`` (0 = a free port) and return a handle; ``await handle.close()``."""
    sim = Simulator(parse_corps(corps), qps=qps, time_scale=time_scale, demo=demo, seed=seed)
    runner = web.AppRunner(sim.build_app(), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    actual_port = runner.addresses[0][1] if runner.addresses else port
    url_host = f"[{host}]" if ":" in host else host
    return SimulatorHandle(sim, runner, f"http://{url_host}:{actual_port}", host, actual_port)
