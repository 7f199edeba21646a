"""Throughput against the simulator's per-app per-API QPS limit, token expiry and injected transient faults."""

from __future__ import annotations

import asyncio
import random
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import aiohttp
import pytest
from dingtalk_client_helpers import CORP_SPEC, SimFactory, control, make_client

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
    dept = await client.contacts.create_department(app, "压测部门", 1)
    await client.contacts.create_user(app, userid="burst", name="压测", mobile="13844440000", dept_id_list=[dept])
    await control(session, sim, "DELETE", "counters")
    calls = [client.contacts.get_user(app, "burst") for _ in range(100)]
    calls += [client.contacts.get_department(app, dept) for _ in range(100)]
    calls += [client.contacts.list_sub_department_ids(app, 1) for _ in range(100)]
    random.shuffle(calls)
    results = await asyncio.gather(*calls)  # any error would propagate here
    assert len(results) == 300
    counters = await control(session, sim, "GET", "counters")
    assert _throttled(counters) == 0, counters["errors"]  # we never made DingTalk throttle us
    assert client.transport.stats["retries"] == 0


ROOT = Path(__file__).resolve().parents[3]


def _busy(seconds: float) -> None:
    """CPU-bound work that does not yield to the event loop (on purpose)."""
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass


@pytest.fixture
async def sim_process() -> AsyncIterator[Any]:
    """The simulator in its own process, so its clock keeps running while our event loop is busy."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "app.cli",
        "dingtalk-sim",
        "--port",
        "0",
        "--qps",
        "20",
        "--corp",
        CORP_SPEC,
        cwd=str(ROOT),
        stdout=asyncio.subprocess.PIPE,
    )
    assert proc.stdout is not None
    line = ""
    while "listening on" not in line:
        line = (await asyncio.wait_for(proc.stdout.readline(), 60)).decode()
        assert line, "the simulator did not start"
    try:
        yield SimpleNamespace(base_url=line.split()[-1])
    finally:
        proc.terminate()
        await proc.wait()


async def test_a_busy_event_loop_does_not_make_dingtalk_throttle_us(
    app: App, session: aiohttp.ClientSession, sim_process: Any
) -> None:
    """Other work hogs our event loop in slices of tens of milliseconds, so requests leave late and in clumps; the
    in-flight window still keeps every second of DingTalk's view under its limit."""
    client = make_client(session, sim_process)
    dept = await client.contacts.create_department(app, "忙碌部门", 1)
    await control(session, sim_process, "DELETE", "counters")
    stop = asyncio.Event()

    async def hog() -> None:
        rng = random.Random(7)
        while not stop.is_set():
            _busy(rng.uniform(0.01, 0.12))
            await asyncio.sleep(0.005)

    hogging = asyncio.create_task(hog())
    try:
        await asyncio.gather(*(client.contacts.get_department(app, dept) for _ in range(150)))
    finally:
        stop.set()
        await hogging
    counters = await control(session, sim_process, "GET", "counters")
    assert _throttled(counters) == 0, counters["errors"]
    assert client.transport.stats["retries"] == 0


async def test_token_expiry_in_the_middle_of_a_run(
    start_sim: SimFactory, session: aiohttp.ClientSession, app: App
) -> None:
    # DingTalk reports expires_in=7200, but at this time scale the token really dies after ~1.5 s.
    sim = await start_sim(qps=20, time_scale=1.5 / 7200)
    client = make_client(session, sim)
    # Call on until the token has died and been replaced at least once (a generous deadline, never a timing).
    deadline = time.monotonic() + 120
    count = 0
    while count < 40 or client.transport.stats["token_refreshes"] < 1:
        assert time.monotonic() < deadline, "the token never expired during the run"
        await asyncio.gather(*(client.contacts.list_sub_departments(app, 1) for _ in range(5)))
        count += 5
    assert client.transport.stats["token_refreshes"] >= 1 and client.transport.stats["token_fetches"] >= 2


async def test_tokens_expired_by_the_console(
    client: DingTalkClient, app: App, session: aiohttp.ClientSession, sim: Any
) -> None:
    before = await client.transport.get_access_token(app)
    await control(session, sim, "POST", "tokens/expire", {})
    await asyncio.gather(*(client.contacts.list_sub_department_ids(app, 1) for _ in range(10)))
    assert await client.transport.get_access_token(app) != before
    assert client.transport.stats["token_fetches"] == 2  # concurrent callers shared one refresh


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
    client.transport.throttle_wait = 0.05
    results = await asyncio.gather(*(client.contacts.list_sub_department_ids(app, 1) for _ in range(40)))
    assert len(results) == 40
    assert client.transport.stats["retries"] > 0
