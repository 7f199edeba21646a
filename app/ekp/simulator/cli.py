"""``landing ekp-sim``: run the EKP simulator in the foreground until interrupted."""

from __future__ import annotations

import argparse
import asyncio
import contextlib

from app.ekp.simulator import start_simulator
from app.ekp.simulator.state import DEFAULT_PERSON_PASSWORD


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8090, help="port to listen on (0 = any free port)")
    parser.add_argument("--user", default="ekp", help="account of the org-export access policy")
    parser.add_argument("--password", default="ekp", help="password of that account")
    parser.add_argument("--depts", type=int, default=50, help="number of generated departments")
    parser.add_argument("--persons", type=int, default=300, help="number of generated persons")
    parser.add_argument("--seed", type=int, default=1, help="random seed; the same seed gives the same data")
    parser.add_argument("--person-password", default=DEFAULT_PERSON_PASSWORD, help="password of every person")
    parser.add_argument("--context-path", default="/ekp", help="EKP context path (default /ekp)")


async def serve(args: argparse.Namespace) -> None:
    handle = await start_simulator(
        host=args.host,
        port=args.port,
        user=args.user,
        password=args.password,
        depts=args.depts,
        persons=args.persons,
        seed=args.seed,
        person_password=args.person_password,
        context_path=args.context_path,
    )
    counts = handle.state.counts()["byType"]
    print(f"EKP simulator at {handle.base_url} (control API {handle.control_url}/)", flush=True)
    print(f"  elements: {counts}; access policy user {args.user!r}", flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await handle.close()


def run(args: argparse.Namespace) -> int:
    """Blocking entry point for the ``landing`` command; returns the exit code."""
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(args))
    return 0


if __name__ == "__main__":
    cli = argparse.ArgumentParser(prog="landing ekp-sim")
    add_arguments(cli)
    raise SystemExit(run(cli.parse_args()))
