"""``landing dingtalk-sim``: run the simulator as a standalone server."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import signal
from pathlib import Path
from typing import Any

from .server import SimulatorHandle, start_simulator

log = logging.getLogger(__name__)

DEFAULT_CORP = "dingsimcorp0001:dingsimappkey0001:simappsecret0001:100001"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=18990, help="port to listen on (0 = any free port)")
    parser.add_argument(
        "--corp",
        action="append",
        metavar="CORPID:APPKEY:APPSECRET[:AGENTID]",
        help=f"a simulated org and its app; repeat for several (default {DEFAULT_CORP})",
    )
    parser.add_argument("--qps", type=int, default=20, help="per-app per-API QPS limit (errcode 90018 beyond)")
    parser.add_argument("--demo", action="store_true", help="seed each org with a realistic demo company")
    parser.add_argument("--seed", type=int, default=1, help="random seed of the demo company")
    parser.add_argument(
        "--time-scale", type=float, default=1.0, help="multiply token lifetimes and callback retry delays by X"
    )
    parser.add_argument("--state", type=Path, help="JSON state file: loaded at start if present, saved at exit")


async def _serve(args: argparse.Namespace, initial_state: dict[str, Any] | None) -> dict[str, Any]:
    handle: SimulatorHandle = await start_simulator(
        corps=args.corp or [DEFAULT_CORP],
        host=args.host,
        port=args.port,
        qps=args.qps,
        time_scale=args.time_scale,
        demo=args.demo,
        seed=args.seed,
    )
    if initial_state is not None:
        handle.sim.load(initial_state)
    print(f"DingTalk simulator listening on {handle.base_url}", flush=True)
    for corp in handle.sim.state.corps.values():
        for app in corp.apps.values():
            print(f"  corp {corp.corpid} ({corp.name}): appkey={app.appkey} agentid={app.agentid}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, stop.set)
        except (NotImplementedError, RuntimeError):  # pragma: no cover - platforms without signal support
            pass
    try:
        await stop.wait()
    finally:
        final_state = handle.sim.dump()
        await handle.close()
    return final_state


def run(args: argparse.Namespace) -> None:
    state_file: Path | None = args.state
    initial = None
    if state_file is not None and state_file.is_file():
        initial = json.loads(state_file.read_text(encoding="utf-8"))
        log.info("loading simulator state from %s", state_file)
    final_state = asyncio.run(_serve(args, initial))
    if state_file is not None:
        state_file.write_text(json.dumps(final_state, ensure_ascii=False, indent=1), encoding="utf-8")
        log.info("saved simulator state to %s", state_file)


def main() -> None:  # pragma: no cover - convenience for ``python -m app.dingtalk.simulator.cli``
    parser = argparse.ArgumentParser(prog="landing dingtalk-sim", description="Run the DingTalk simulator")
    add_arguments(parser)
    logging.basicConfig(level=logging.INFO)
    run(parser.parse_args())


if __name__ == "__main__":  # pragma: no cover
    main()
