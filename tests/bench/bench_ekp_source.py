"""Benchmark: read a 10,000-department / 100,000-person EKP through the org-export client.

Run: .venv/bin/python tests/bench/bench_ekp_source.py [--transport rest|soap] [--page-size 2000] [--in-process]
The simulator runs in a child process by default, so the time and peak RSS printed are the client's own
(the simulator's serialisation still sits on the critical path, as a real EKP's would). Not a pytest test.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import sys
import time
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from app.ekp.models import CursorKind  # noqa: E402
from app.ekp.org_source import EkpOrgSource, EkpSourceConfig  # noqa: E402


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _peak_rss_mb() -> float:
    # ru_maxrss is KiB on Linux, bytes on macOS.
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


async def _child_simulator(args: argparse.Namespace) -> tuple[asyncio.subprocess.Process, str]:
    command = [sys.executable, "-m", "app.ekp.simulator.cli", "--port", "0"]
    command += ["--depts", str(args.depts), "--persons", str(args.persons)]
    process = await asyncio.create_subprocess_exec(*command, cwd=ROOT, stdout=asyncio.subprocess.PIPE)
    assert process.stdout is not None
    while line := (await process.stdout.readline()).decode():
        print(f"  [simulator] {line.rstrip()}")
        if line.startswith("EKP simulator at "):
            return process, line.split()[3]
    raise SystemExit("simulator did not start")


async def _read_everything(base_url: str, args: argparse.Namespace) -> tuple[int, int, float, int, float]:
    async with aiohttp.ClientSession() as session:
        config = EkpSourceConfig(
            base_url=base_url, user="ekp", password="ekp", transport=args.transport, page_size=args.page_size
        )
        src = EkpOrgSource(session, config)
        total = pages = 0
        started = time.perf_counter()
        for kind in CursorKind:
            kind_started, count = time.perf_counter(), 0
            async for page in src.iter_changes(kind, None):
                count += len(page.elements)
                pages += 1
            print(f"  {kind.value:<7} {count:>7} elements in {time.perf_counter() - kind_started:6.2f} s")
            total += count
        seconds = time.perf_counter() - started
        base_started = time.perf_counter()
        ids = len(await src.get_elements_base_info(CursorKind.PERSON))
        return total, pages, seconds, ids, time.perf_counter() - base_started


async def main(args: argparse.Namespace) -> None:
    started = time.perf_counter()
    if args.in_process:
        from app.ekp.simulator import start_simulator

        handle = await start_simulator(depts=args.depts, persons=args.persons, seed=1)
        base_url, process = handle.base_url, None
    else:
        process, base_url = await _child_simulator(args)
    print(f"simulator ready in {time.perf_counter() - started:.2f} s at {base_url}")
    cpu_before = _cpu_seconds()
    try:
        total, pages, seconds, ids, base_seconds = await _read_everything(base_url, args)
    finally:
        if process is not None:
            process.terminate()
            await process.wait()
        else:
            await handle.close()
    cpu = _cpu_seconds() - cpu_before
    where = "client and simulator in one process" if args.in_process else "client process only"
    print(f"transport={args.transport} page_size={args.page_size} pages={pages}")
    print(f"read {total} elements in {seconds:.2f} s = {total / seconds:,.0f} elements/s")
    print(f"getElementsBaseInfo(person): {ids} ids in {base_seconds:.2f} s")
    print(f"CPU time ({where}), read + base info: {cpu:.2f} s")
    print(f"peak RSS ({where}): {_peak_rss_mb():.0f} MB")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Read a large simulated EKP through the org-export client.")
    parser.add_argument("--transport", choices=["rest", "soap"], default="rest")
    parser.add_argument("--page-size", type=int, default=2000)
    parser.add_argument("--depts", type=int, default=10_000)
    parser.add_argument("--persons", type=int, default=100_000)
    parser.add_argument("--in-process", action="store_true", help="run the simulator inside this process")
    asyncio.run(main(parser.parse_args()))
