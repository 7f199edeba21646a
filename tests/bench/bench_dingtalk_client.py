"""Benchmark: how close the DingTalk client gets to the per-app per-API QPS limit without tripping it.

Starts the DingTalk simulator (demo company) with a QPS limit, saturates the client with concurrent workers on
several APIs for a fixed duration and prints achieved calls/s per API, the ratio to the limit (target >= 0.9),
caller-visible errors (target 0) and how often the server throttled us (should be 0: the client paces itself).

Run: .venv/bin/python tests/bench/bench_dingtalk_client.py [--seconds 10] [--qps 20] [--workers 8]
Not a test: nothing here is collected by pytest.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from app.dingtalk.client import App, DingTalkClient  # noqa: E402
from app.dingtalk.errors import DingTalkError  # noqa: E402
from app.dingtalk.simulator import start_simulator  # noqa: E402

APP = App(corpid="dingbenchcorp", appkey="dingbenchkey", appsecret="bench-secret-0123456789", agent_id=7001)


async def run(seconds: float, qps: int, workers: int) -> int:
    handle = await start_simulator(
        corps=[f"{APP.corpid}:{APP.appkey}:{APP.appsecret}:{APP.agent_id}"], qps=qps, demo=True
    )
    try:
        async with aiohttp.ClientSession() as session:
            client = DingTalkClient(session, oapi_base=handle.base_url, api_base=handle.base_url, qps=qps)
            # Setup (not measured): token, the tree, one user and one department with members.
            departments = await client.contacts.list_all_departments(APP)
            dept_ids = [d.dept_id for d in departments]
            member_dept, members = 1, await client.contacts.list_dept_user_ids(APP, 1)
            for dept_id in dept_ids:
                if members[1:]:
                    break
                member_dept, members = dept_id, await client.contacts.list_dept_user_ids(APP, dept_id)
            userid = members[0]
            await asyncio.sleep(1.2)  # let the setup calls leave the server's one-second window
            async with session.delete(f"{handle.base_url}/_sim/counters"):
                pass

            apis: dict[str, Callable[[int], Awaitable[Any]]] = {
                "/topapi/v2/user/get": lambda i: client.contacts.get_user(APP, userid),
                "/topapi/v2/department/get": lambda i: client.contacts.get_department(APP, dept_ids[i % len(dept_ids)]),
                "/topapi/v2/department/listsub": lambda i: client.contacts.list_sub_departments(APP, 1),
                "/topapi/user/listid": lambda i: client.contacts.list_dept_user_ids(APP, member_dept),
                "/topapi/v2/user/list": lambda i: client.contacts.list_dept_users(APP, member_dept),
            }
            done: Counter[str] = Counter()
            errors: Counter[str] = Counter()
            started = time.monotonic()
            deadline = started + seconds

            async def worker(api: str, call: Callable[[int], Awaitable[Any]]) -> None:
                i = 0
                while time.monotonic() < deadline:
                    i += 1
                    try:
                        await call(i)
                    except DingTalkError as exc:
                        errors[f"{api}: {exc}"[:160]] += 1
                        continue
                    if time.monotonic() <= deadline:
                        done[api] += 1

            await asyncio.gather(*(worker(api, call) for api, call in apis.items() for _ in range(workers)))
            elapsed = min(time.monotonic(), deadline) - started
            async with session.get(f"{handle.base_url}/_sim/counters") as resp:
                counters = await resp.json()
    finally:
        await handle.close()

    throttled = sum(
        n
        for codes in counters["errors"].values()
        for code, n in codes.items()
        if code in ("90018", "Forbidden.AccessDenied.QpsLimitForAppkeyAndApi")
    )
    print(
        f"DingTalk client benchmark: {elapsed:.1f} s, {len(apis)} APIs x {workers} workers, "
        f"simulator limit {qps} QPS per app per API"
    )
    print(f"{'API':<34}{'calls':>7}{'calls/s':>10}{'limit':>7}{'ratio':>7}")
    ratios = []
    for api in apis:
        rate = done[api] / elapsed
        ratios.append(rate / qps)
        print(f"{api:<34}{done[api]:>7}{rate:>10.2f}{qps:>7}{rate / qps:>7.2f}")
    total = sum(done.values())
    print(
        f"{'total':<34}{total:>7}{total / elapsed:>10.2f}{qps * len(apis):>7}{total / elapsed / qps / len(apis):>7.2f}"
    )
    error_count = sum(errors.values())
    print(
        f"min ratio {min(ratios):.2f} (target >= 0.9); errors {error_count} (target 0); "
        f"server-side throttling responses {throttled}; client retries {client.transport.stats['retries']}; "
        f"token fetches {client.transport.stats['token_fetches']}"
    )
    for text, n in errors.most_common(5):
        print(f"  {n} x {text}")
    return 0 if min(ratios) >= 0.9 and error_count == 0 else 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--qps", type=int, default=20)
    parser.add_argument("--workers", type=int, default=8)
    args = parser.parse_args()
    raise SystemExit(asyncio.run(run(args.seconds, args.qps, args.workers)))


if __name__ == "__main__":
    main()
