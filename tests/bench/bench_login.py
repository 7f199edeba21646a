"""Login throughput and ``/healthz`` latency while 10 logins run at once (a script that prints numbers).

    .venv/bin/python tests/bench/bench_login.py [--seconds 10] [--parallel 10] [--write-docs]

The server is a child process: the real ``/healthz`` router and the real login check (``accounts.authenticate``:
argon2 verification, lockout counters, audit line) behind a small POST route, on one event loop as in
``landing serve``, over SQLite. This script keeps ``parallel`` logins in flight and polls ``/healthz`` ten times a
second. Whether password hashing blocks the event loop shows directly in the health latency.
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402

from tests.bench.record import Record  # noqa: E402

RECORD = Record("login", "Logins and health", ("benchmark", "result", "target"))

SERVER = """
import asyncio, sys
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from tortoise import Tortoise
from cryptography.fernet import Fernet

async def main(url, port):
    from app.api import health
    from app.core.db import build_config
    from app.core.security import install_secret_key
    from app.services import accounts
    from app.services.errors import LoginFailed
    from tests import factories
    from app.models.accounts import Role

    install_secret_key(Fernet.generate_key().decode())
    await Tortoise.init(config=build_config(url))
    await Tortoise.generate_schemas()
    org = await factories.org("登录压测", "benchlogin", is_main=True)
    for n in range(20):
        await factories.account(f"user{n}", Role.ORG_ADMIN, org)
    api = FastAPI()
    api.include_router(health.router)

    @api.post("/bench/login")
    async def login(request: Request):
        body = await request.json()
        try:
            await accounts.authenticate(body["login"], body["password"], "127.0.0.1")
        except LoginFailed as exc:
            return JSONResponse({"ok": False, "message": exc.message}, status_code=401)
        return {"ok": True}

    print("ready", flush=True)
    await uvicorn.Server(uvicorn.Config(api, host="127.0.0.1", port=int(port), log_level="warning")).serve()

asyncio.run(main(sys.argv[1], sys.argv[2]))
"""


def _pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))] if ordered else 0.0


async def bench(seconds: float, parallel: int) -> None:
    from tests import factories

    data = Path(tempfile.mkdtemp(prefix="bench-login-"))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        SERVER,
        f"sqlite://{data / 'bench.sqlite3'}",
        str(port),
        cwd=str(ROOT),
        stdout=asyncio.subprocess.PIPE,
        stderr=(data / "server.log").open("wb"),
    )
    assert proc.stdout is not None
    assert (await asyncio.wait_for(proc.stdout.readline(), 120)).strip() == b"ready"
    base = f"http://127.0.0.1:{port}"
    logins: list[float] = []
    failed = 0
    health: list[float] = []
    try:
        async with aiohttp.ClientSession() as http:
            for _ in range(50):
                try:
                    async with http.get(f"{base}/healthz") as r:
                        if r.status == 200:
                            break
                except aiohttp.ClientError:
                    await asyncio.sleep(0.1)
            idle: list[float] = []
            for _ in range(20):
                started = time.perf_counter()
                async with http.get(f"{base}/healthz") as r:
                    await r.read()
                idle.append((time.perf_counter() - started) * 1000)
                await asyncio.sleep(0.05)
            stop = time.perf_counter() + seconds

            async def worker(n: int) -> None:
                nonlocal failed
                while time.perf_counter() < stop:
                    started = time.perf_counter()
                    body = {"login": f"user{n}", "password": factories.PASSWORD}
                    async with http.post(f"{base}/bench/login", json=body) as r:
                        await r.read()
                        if r.status != 200:
                            failed += 1
                            continue
                    logins.append((time.perf_counter() - started) * 1000)

            async def poll() -> None:
                while time.perf_counter() < stop:
                    started = time.perf_counter()
                    async with http.get(f"{base}/healthz") as r:
                        await r.read()
                    health.append((time.perf_counter() - started) * 1000)
                    await asyncio.sleep(0.1)

            await asyncio.gather(poll(), *(worker(n) for n in range(parallel)))
    finally:
        proc.terminate()
        await proc.wait()
    rate = len(logins) / seconds
    print(f"idle /healthz p50 {_pct(idle, 50):.1f} ms p99 {_pct(idle, 99):.1f} ms")
    print(
        f"{parallel} parallel logins for {seconds:.0f} s: {len(logins)} ok ({rate:.1f}/s), {failed} failed; "
        f"login p50 {_pct(logins, 50):.0f} ms p99 {_pct(logins, 99):.0f} ms; "
        f"/healthz meanwhile p50 {_pct(health, 50):.1f} ms p99 {_pct(health, 99):.1f} ms max {max(health):.0f} ms"
    )
    RECORD.add(
        f"{parallel} parallel logins (argon2 verify)", f"{rate:.1f} logins/s, p99 {_pct(logins, 99):.0f} ms", "-"
    )
    RECORD.add(
        f"/healthz during {parallel} parallel logins",
        f"p50 {_pct(health, 50):.0f} ms, p99 {_pct(health, 99):.0f} ms (idle p99 {_pct(idle, 99):.0f} ms)",
        f"p99 ≤ 100 ms: {'met' if _pct(health, 99) <= 100 else '**not met**'}",
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--parallel", type=int, default=10)
    parser.add_argument("--write-docs", action="store_true")
    args = parser.parse_args()
    asyncio.run(bench(args.seconds, args.parallel))
    RECORD.note(
        "Server and load in separate processes on one machine that was shared with other engineers' work. Password "
        "verification is owned by the login work (issue 13); this measures it as it stands on this branch."
    )
    if args.write_docs:
        RECORD.write()


if __name__ == "__main__":
    main()
