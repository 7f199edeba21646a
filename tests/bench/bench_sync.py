"""Contacts sync benchmarks (a script that prints numbers; nothing here is a timed assertion).

    .venv/bin/python tests/bench/bench_sync.py [--depts 10000] [--persons 100000] [--push-persons 400] [--qps 50]
        [--source-only]   (only the import and the incremental run)
        [--write-docs]    (replace the numbers in docs/performance.md with this run's)

1. full source sync EKP -> LanDing (SQLite) of depts/persons from the EKP simulator: seconds, peak RSS;
2. incremental source run with 1,000 changed people: seconds;
3. push throughput: user creates per second as a share of the simulator's per-API QPS limit, and throttling errors;
4. callback acknowledgement latency at 200 requests per second over real HTTP: p50 / p99.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import socket
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402
import uvicorn  # noqa: E402
from cryptography.fernet import Fernet  # noqa: E402
from fastapi import FastAPI  # noqa: E402
from tortoise import Tortoise  # noqa: E402

from app import runtime  # noqa: E402
from app.api import dingtalk_callback  # noqa: E402
from app.core.config import Settings  # noqa: E402
from app.core.db import apply_sqlite_pragmas, build_config  # noqa: E402
from app.core.security import install_secret_key  # noqa: E402
from app.dingtalk.crypto import DingTalkCrypto  # noqa: E402
from app.dingtalk.simulator import start_simulator as start_dingtalk  # noqa: E402
from app.ekp.simulator import start_simulator as start_ekp  # noqa: E402
from app.models.contacts import Department, Person  # noqa: E402
from app.models.sync import RunKind, RunTrigger, SyncRun, SyncSettings  # noqa: E402
from app.sync import push, source, sources  # noqa: E402
from app.sync.context import RunContext  # noqa: E402
from tests import factories  # noqa: E402
from tests.bench.record import Record  # noqa: E402

RECORD = Record("sync", "Contacts sync", ("benchmark", "result", "target"))


def _met(ok: bool, target: str) -> str:
    return f"{target}: {'met' if ok else '**not met**'}"


def _client_retries() -> int:
    return runtime.get().dingtalk.transport.stats["retries"]


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def open_db(folder: Path) -> None:
    install_secret_key(Fernet.generate_key().decode())
    await Tortoise.init(config=build_config(f"sqlite://{folder / 'bench.sqlite3'}"))
    await Tortoise.generate_schemas()
    await apply_sqlite_pragmas()  # as the server opens it (WAL), so the numbers are the product's


async def context(org, settings: SyncSettings, *, full: bool) -> RunContext:
    run = await SyncRun.create(org=org, trigger=RunTrigger.MANUAL, kind=RunKind.FULL if full else RunKind.INCREMENTAL)
    return RunContext(org=org, run=run, settings=settings, rt=runtime.get(), client=runtime.get().dingtalk, full=full)


class ChildEkp:
    """The EKP simulator in a child process (`landing ekp-sim`), with the same URLs as an in-process handle."""

    def __init__(self, process: asyncio.subprocess.Process, base_url: str, control_url: str) -> None:
        self.process, self.base_url, self.control_url = process, base_url, control_url

    @classmethod
    async def start(cls, *, depts: int, persons: int, seed: int) -> ChildEkp:
        command = [
            sys.executable,
            "-m",
            "app.ekp.simulator.cli",
            "--port",
            "0",
            "--depts",
            str(depts),
            "--persons",
            str(persons),
            "--seed",
            str(seed),
            "--user",
            "ekp",
            "--password",
            "ekp",
        ]
        process = await asyncio.create_subprocess_exec(*command, cwd=ROOT, stdout=asyncio.subprocess.PIPE)
        assert process.stdout is not None
        while line := (await process.stdout.readline()).decode():
            if line.startswith("EKP simulator at "):
                words = line.split()
                return cls(process, words[3], words[6].rstrip("/)"))
        raise SystemExit("EKP simulator did not start")

    async def close(self) -> None:
        self.process.terminate()
        await self.process.wait()


async def _read_only(settings: SyncSettings) -> tuple[float, float, int]:
    """Read the whole export through the source adapter and apply nothing: wall time, this process's CPU, count."""
    adapter = source.make_source(settings, runtime.get())
    count = 0
    wall, cpu = time.perf_counter(), time.process_time()
    for kind in (sources.DEPT, sources.PERSON):
        async for page in adapter.iter_changes(kind, None, known=None):
            count += len(page.elements)
    return time.perf_counter() - wall, time.process_time() - cpu, count


async def bench_source(depts: int, persons: int) -> None:
    print(f"generating EKP organisation: {depts} departments, {persons} people ...", flush=True)
    # EKP is another server in production: run the simulator in its own process so its JSON encoding does not
    # share this process's core with the import being measured.
    ekp = await ChildEkp.start(depts=depts, persons=persons, seed=11)
    try:
        org = await factories.org("基准测试", "benchcorp")
        settings = await SyncSettings.create(
            org=org,
            delete_threshold=100,
            source_enabled=True,
            source_url=ekp.base_url,
            source_user="ekp",
            source_password="ekp",
        )
        read_wall, read_cpu, read_count = await _read_only(settings)
        print(f"reading the EKP export alone: {read_count} elements in {read_wall:.1f} s, client CPU {read_cpu:.1f} s")
        before = rss_mb()
        started = time.perf_counter()
        await source.run(await context(org, settings, full=True))
        elapsed = time.perf_counter() - started
        n_depts = await Department.filter(org_id=org.id).count()
        n_people = await Person.filter(org_id=org.id).count()
        print(
            f"full source sync: {n_depts} departments, {n_people} people in {elapsed:.1f} s "
            f"(target <= 20 s); peak RSS {rss_mb():.0f} MB (before {before:.0f} MB)"
        )
        RECORD.add(
            f"full EKP import, {n_depts:,} departments / {n_people:,} people",
            f"{elapsed:.1f} s, peak RSS {rss_mb():.0f} MB",
            _met(elapsed <= 20, "≤ 20 s"),
        )
        ratio = elapsed / read_wall
        RECORD.add(
            "full import ÷ reading the same export alone (same run)",
            f"{elapsed:.1f} s ÷ {read_wall:.1f} s = {ratio:.2f}",
            _met(ratio <= 1.5, "≤ 1.5"),
        )
        RECORD.add(
            f"EKP client CPU for reading {read_count:,} elements",
            f"{read_cpu:.1f} s",
            _met(read_cpu <= 2, "≤ 2 s"),
        )

        async with aiohttp.ClientSession() as http:
            async with http.post(
                ekp.control_url + "/bulk/change", json={"type": "person", "count": 1000, "field": "name", "seed": 5}
            ) as resp:
                assert resp.status == 200, await resp.text()
        settings = await SyncSettings.get(id=settings.id)
        started = time.perf_counter()
        ctx = await context(org, settings, full=False)
        await source.run(ctx)
        elapsed = time.perf_counter() - started
        updated = ctx.counters["source"]["person"]["updated"]
        print(f"incremental source run: {updated} changed people applied in {elapsed:.2f} s (target <= 0.3 s)")
        RECORD.add(f"incremental run, {updated:,} changed people", f"{elapsed:.2f} s", _met(elapsed <= 0.3, "≤ 0.3 s"))
    finally:
        await ekp.close()


async def bench_push(persons: int, qps: int, ding) -> None:
    ekp = await start_ekp(user="ekp", password="ekp", depts=20, persons=persons, seed=3)
    try:
        org = await factories.org("推送测试", "pushcorp")
        settings = await SyncSettings.create(
            org=org,
            delete_threshold=100,
            source_enabled=True,
            source_url=ekp.base_url,
            source_user="ekp",
            source_password="ekp",
        )
        ctx = await context(org, settings, full=True)
        await source.run(ctx)
        pusher = push.Pusher(ctx)
        await pusher.push_departments()
        started = time.perf_counter()
        await pusher.push_people(full=True)
        elapsed = time.perf_counter() - started
        added = ctx.counters["push"]["person"]["added"]
        rate = added / elapsed
        async with aiohttp.ClientSession() as http:
            async with http.get(ding.base_url + "/_sim/counters") as resp:
                counters = await resp.json()
        throttled = sum(v.get("90018", 0) for v in counters.get("errors", {}).values())
        print(
            f"push: {added} users created in {elapsed:.1f} s = {rate:.1f}/s at a {qps} QPS limit -> ratio "
            f"{rate / qps:.2f} (target >= 0.9); throttling errors from DingTalk: {throttled}; "
            f"client retries {_client_retries()}"
        )
        RECORD.add(
            f"push throughput vs the simulator's QPS limit ({added} people, {qps} QPS)",
            f"{rate / qps:.2f}, {throttled} throttling failures, {_client_retries()} retries",
            _met(rate / qps >= 0.9 and not throttled, "≥ 0.9"),
        )
    finally:
        await ekp.close()


async def bench_callbacks(rate: int = 200, seconds: float = 5.0) -> None:
    org = await factories.org("回调测试", "cbcorp")
    api = FastAPI()
    api.include_router(dingtalk_callback.router)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(api, host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
    task = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 - uvicorn has no started event
        await asyncio.sleep(0.02)
    crypto = DingTalkCrypto(org.callback_token, org.aes_key, org.corpid)
    url = f"http://127.0.0.1:{port}/api/ding_console/contacts/callback"
    latencies: list[float] = []
    errors = 0

    async def one(http: aiohttp.ClientSession, n: int) -> None:
        nonlocal errors
        ts = str(int(time.time() * 1000))
        payload = {"EventType": "user_modify_org", "CorpId": org.corpid, "UserId": [f"u{n}"], "TimeStamp": ts}
        encrypt = crypto.encrypt(json.dumps(payload))
        params = {
            "corpid": org.corpid,
            "signature": crypto.signature(ts, "nonce", encrypt),
            "timestamp": ts,
            "nonce": "nonce",
        }
        started = time.perf_counter()
        async with http.post(url, params=params, json={"encrypt": encrypt}) as resp:
            await resp.read()
            if resp.status != 200:
                errors += 1
        latencies.append((time.perf_counter() - started) * 1000)

    async with aiohttp.ClientSession() as http:
        tasks = []
        total = int(rate * seconds)
        start = time.perf_counter()
        for n in range(total):
            delay = start + n / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(http, n)))
        await asyncio.gather(*tasks)
    server.should_exit = True
    await task
    latencies.sort()
    p99 = latencies[int(len(latencies) * 0.99) - 1]
    print(
        f"callback ack at {rate}/s for {seconds:.0f} s ({len(latencies)} requests, {errors} errors): "
        f"p50 {statistics.median(latencies):.1f} ms, p99 {p99:.1f} ms (target p99 <= 100 ms)"
    )
    RECORD.add(
        f"callback acknowledgement at {rate} requests/s ({len(latencies):,} requests, {errors} errors)",
        f"p50 {statistics.median(latencies):.1f} ms, p99 {p99:.1f} ms",
        _met(p99 <= 100 and not errors, "p99 ≤ 100 ms"),
    )


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--depts", type=int, default=10_000)
    parser.add_argument("--persons", type=int, default=100_000)
    parser.add_argument("--push-persons", type=int, default=400)
    parser.add_argument("--qps", type=int, default=50)
    parser.add_argument("--skip-source", action="store_true")
    parser.add_argument("--source-only", action="store_true", help="only the import and incremental benchmarks")
    parser.add_argument("--write-docs", action="store_true", help="record the numbers in docs/performance.md")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        await open_db(Path(tmp))
        ding = await start_dingtalk(
            corps=[
                "benchcorp:key-benchcorp:secret-benchcorp-0123456789abcdef:9",
                "pushcorp:key-pushcorp:secret-pushcorp-0123456789abcdef:9",
                "cbcorp:key-cbcorp:secret-cbcorp-0123456789abcdef:9",
            ],
            qps=args.qps,
        )
        await runtime.start(
            Settings(
                dingtalk_oapi_base=ding.base_url,
                dingtalk_api_base=ding.base_url,
                dingtalk_qps=args.qps,
                ekp_page_size=2000,
                outbound_allowed_ranges="127.0.0.0/8",  # the EKP simulator is on loopback
            ),
            run_workers=False,
        )
        try:
            if not args.skip_source:
                await bench_source(args.depts, args.persons)
            if not args.source_only:
                await bench_push(args.push_persons, args.qps, ding)
                await bench_callbacks()
            if args.write_docs:
                RECORD.write()
        finally:
            await runtime.stop()
            await ding.close()
            await Tortoise.close_connections()


if __name__ == "__main__":
    asyncio.run(main())
