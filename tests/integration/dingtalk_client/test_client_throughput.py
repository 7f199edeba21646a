"""Throughput against the simulator's per-app per-API QPS limit, token expiry and injected transient faults."""

from __future__ import annotations

import asyncio
import random
import time
from typing import Any

import aiohttp
from dingtalk_client_helpers import SimFactory, control, make_client

from app.dingtalk.client import App, DingTalkClient


def _throttled(counters: dict[str, Any]) -> int:
    return sum(
        codes.get(code, 0)
        for codes in counters["errors"].values()
        for code in ("90018", "Forbidden.AccessDenied.QpsLimitForAppkeyAndApi")
    )


async def test_burst_of_300_calls_stays_under_the_limit(
    client: DingTalkClient, app: App, session: aiohttp.ClientSession, sim: Any
) -> None:
    dept = await client.create_department(app, "压测部门", 1)
    await client.create_user(app, userid="burst", name="压测", mobile="13844440000", dept_id_list=[dept])
    await control(session, sim, "DELETE", "counters")
    calls = [client.get_user(app, "burst") for _ in range(100)]
    calls += [client.get_department(app, dept) for _ in range(100)]
    calls += [client.list_sub_department_ids(app, 1) for _ in range(100)]
    random.shuffle(calls)
    results = await asyncio.gather(*calls)  # any error would propagate here
    assert len(results) == 300
    counters = await control(session, sim, "GET", "counters")
    assert _throttled(counters) == 0, counters["errors"]  # we never made DingTalk throttle us
    assert client.stats["retries"] == 0


async def test_token_expiry_in_the_middle_of_a_run(
    start_sim: SimFactory, session: aiohttp.ClientSession, app: App
) -> None:
    # DingTalk reports expires_in=7200, but at this time scale the token really dies after ~1.5 s.
    sim = await start_sim(qps=20, time_scale=1.5 / 7200)
    client = make_client(session, sim)
    deadline = time.monotonic() + 4
    count = 0
    while time.monotonic() < deadline:
        await asyncio.gather(*(client.list_sub_departments(app, 1) for _ in range(5)))
        count += 5
    assert count >= 40
    assert client.stats["token_refreshes"] >= 1 and client.stats["token_fetches"] >= 2


async def test_tokens_expired_by_the_console(
    client: DingTalkClient, app: App, session: aiohttp.ClientSession, sim: Any
) -> None:
    before = await client.get_access_token(app)
    await control(session, sim, "POST", "tokens/expire", {})
    await asyncio.gather(*(client.list_sub_department_ids(app, 1) for _ in range(10)))
    assert await client.get_access_token(app) != before
    assert client.stats["token_fetches"] == 2  # concurrent callers shared one refresh


async def test_transient_faults_never_reach_the_caller(
    client: DingTalkClient, app: App, session: aiohttp.ClientSession, sim: Any
) -> None:
    await control(
        session,
        sim,
        "POST",
        "faults/transient",
        {"apis": ["/topapi/v2/department/*"], "rate": 0.3, "errors": [-1, 88, 90018, 502, 503], "seed": 7},
    )
    client.throttle_wait = 0.05
    results = await asyncio.gather(*(client.list_sub_department_ids(app, 1) for _ in range(40)))
    assert len(results) == 40
    assert client.stats["retries"] > 0
