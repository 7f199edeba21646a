"""A faithful fake Landray EKP for tests and demos: org export over REST and SOAP, access policies, a password
check for the domain-account login, and a ``/_sim/`` control API. State lives in memory."""

from __future__ import annotations

import socket
from dataclasses import dataclass

from aiohttp import web

from app.ekp.simulator.control import ControlApi
from app.ekp.simulator.generator import generate
from app.ekp.simulator.server import AccessPolicy, EkpSimulator, Fault
from app.ekp.simulator.state import DEFAULT_PERSON_PASSWORD, OrgState, SimElement
from app.ekp.simulator.todo_sender import TodoSender

__all__ = [
    "AccessPolicy",
    "EkpSimulator",
    "EkpSimulatorHandle",
    "Fault",
    "OrgState",
    "SimElement",
    "build_app",
    "start_simulator",
]


def build_app(sim: EkpSimulator, context_path: str = "/ekp") -> web.Application:
    app = web.Application(client_max_size=16 * 1024 * 1024)
    app.add_routes(sim.routes(context_path))
    app.add_routes(ControlApi(sim).routes())
    app.add_routes(TodoSender(sim).routes())
    return app


@dataclass
class EkpSimulatorHandle:
    """A running simulator. ``base_url`` is what a client is configured with (context path included);
    ``control_url`` is the ``/_sim`` root."""

    sim: EkpSimulator
    runner: web.AppRunner
    host: str
    port: int
    context_path: str

    @property
    def state(self) -> OrgState:
        return self.sim.state

    @property
    def root_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        return self.root_url + self.context_path.rstrip("/")

    @property
    def control_url(self) -> str:
        return self.root_url + "/_sim"

    async def close(self) -> None:
        await self.runner.cleanup()


async def start_simulator(
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    user: str = "ekp",
    password: str = "ekp",
    depts: int = 50,
    persons: int = 300,
    seed: int = 1,
    person_password: str = DEFAULT_PERSON_PASSWORD,
    context_path: str = "/ekp",
    max_depth: int = 6,
) -> EkpSimulatorHandle:
    """Generate an organisation and serve it; ``port=0`` picks a free port (see ``handle.port``)."""
    state = OrgState()
    state.load(generate(depts, persons, seed, max_depth=max_depth, person_password=person_password))
    sim = EkpSimulator(state, AccessPolicy(user=user, password=password))
    runner = web.AppRunner(build_app(sim, context_path), access_log=None)
    await runner.setup()
    # Bind the socket ourselves so the real port is known when port=0.
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    site = web.SockSite(runner, sock)
    await site.start()
    return EkpSimulatorHandle(sim, runner, host, sock.getsockname()[1], context_path)
