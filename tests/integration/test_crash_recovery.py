"""kill -9 in the middle of a full sync, then a restart: the interrupted run is rerun by itself, at once (the
restarted process takes its own dead lease back), stays full, and ends consistent: every EKP person once in
LanDing and once in DingTalk, nothing lost, nothing duplicated. The recovery time is printed.

The console is a real child process with its own ORM connection and DingTalk client, pointed at the same database
(the SQLite file, or PostgreSQL when the suite runs on it) and at simulators this test serves over loopback; EKP is
reached through a proxy that can slow it down, so the kill lands inside the stage under test.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import time
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from app.core.security import install_secret_key
from app.models.contacts import Person
from app.models.sync import RunKind, RunResult, SyncRun, SyncSettings
from tests.integration import sync_env
from tests.integration.fault_proxy import FaultProxy

ROOT = Path(__file__).resolve().parents[2]

CONSOLE = """
import asyncio, json, sys, time

async def main(url, key, ding, qps, mode, org_id):
    from tortoise import Tortoise
    from app import runtime
    from app.core.config import Settings
    from app.core.db import build_config
    from app.core.security import install_secret_key
    from app.models.sync import RunResult, RunTrigger, SyncRun
    from app.main import WORKERS
    from app.sync import runner

    install_secret_key(key)
    await Tortoise.init(config=build_config(url))
    settings = Settings(dingtalk_oapi_base=ding, dingtalk_api_base=ding, dingtalk_qps=float(qps), ekp_page_size=10)
    if mode == "crash":
        await runtime.start(settings, run_workers=False)
        await runner.start(int(org_id), RunTrigger.MANUAL, full=True, rt=runtime.get())
        print("started", flush=True)
        await asyncio.sleep(3600)
    # A normal start: the workers, among them the one that reruns interrupted runs.
    await runtime.start(settings, workers=WORKERS)
    while True:
        await asyncio.sleep(0.2)
        if not await SyncRun.filter(result=RunResult.RUNNING).exists() and not runner._tasks:
            break
    print(json.dumps({"runs": await SyncRun.filter(org_id=int(org_id)).count()}), flush=True)
    await runtime.stop()
    await Tortoise.close_connections()

asyncio.run(main(*sys.argv[1:]))
"""


async def _console(url: str, key: str, ding: str, qps: int, mode: str, org_id: int, data: Path):
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        CONSOLE,
        url,
        key,
        ding,
        str(qps),
        mode,
        str(org_id),
        cwd=str(ROOT),
        env={
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "LANDING_DATA_DIR": str(data),
            "LANDING_LOG_JSON": "false",
            # The EKP simulator is on loopback: allowed the way an operator allows an on-prem EKP's range.
            "LANDING_OUTBOUND_ALLOWED_RANGES": os.environ.get("LANDING_OUTBOUND_ALLOWED_RANGES", ""),
        },
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def _until(check, what: str, seconds: float = 120.0) -> None:
    deadline = time.monotonic() + seconds
    while not await check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.05)


@pytest.mark.parametrize("stage", ["source", "push"])
async def test_kill_9_during_a_full_sync_then_restart(orm: str, tmp_path: Path, stage: str) -> None:
    key = Fernet.generate_key().decode()
    install_secret_key(key)  # the console processes decrypt the org's secrets with the same key
    env = await sync_env.make_env(depts=8, persons=60)
    already = set(env.ding_users())  # DingTalk's own admin account
    (tmp_path / "a").mkdir()
    proxy = await FaultProxy(env.ekp.base_url).start()
    try:
        await SyncSettings.filter(org_id=env.org.id).update(source_url=proxy.base_url)
        if stage == "source":
            proxy.delay = 0.25  # EKP answers slowly: the import takes seconds
        # The first console pushes slowly (5 calls a second), so the kill lands inside the stage under test.
        crashing = await _console(orm, key, env.ding.base_url, 5, "crash", env.org.id, tmp_path / "a")
        assert crashing.stdout is not None
        assert (await asyncio.wait_for(crashing.stdout.readline(), 120)).strip() == b"started"

        async def inside_stage() -> bool:
            run = await SyncRun.filter(org_id=env.org.id).order_by("-id").first()
            if run is None or run.stage != stage:
                return False
            if stage == "source":
                return 0 < await Person.filter(org_id=env.org.id).count()
            return len(env.ding_users()) >= 3

        await _until(inside_stage, f"the run to be inside the {stage} stage")
        crashing.send_signal(signal.SIGKILL)
        killed_at = time.monotonic()
        await crashing.wait()
        proxy.delay = 0
        first = await SyncRun.filter(org_id=env.org.id).order_by("-id").first()
        assert first is not None and first.result == RunResult.RUNNING  # nobody closed it: the process just died

        restarted = await _console(orm, key, env.ding.base_url, 200, "restart", env.org.id, tmp_path / "a")

        async def rerun_started() -> bool:
            return await SyncRun.filter(org_id=env.org.id, id__gt=first.id).exists()

        await _until(rerun_started, "the interrupted run to be rerun")
        recovery = time.monotonic() - killed_at
        out, err = await asyncio.wait_for(restarted.communicate(), 180)
        assert restarted.returncode == 0, err.decode()[-3000:]
        print(f"kill -9 during {stage}: rerun started {recovery:.1f} s after the kill (process start included)")

        old = await SyncRun.get(id=first.id)
        assert old.result == RunResult.FAILED and "中断" in old.error
        rerun = await SyncRun.filter(org_id=env.org.id, id__gt=first.id).order_by("id").first()
        assert rerun is not None and rerun.kind == RunKind.FULL
        assert rerun.result == RunResult.SUCCESS, rerun.error
        assert json.loads(out.decode().strip().splitlines()[-1]) == {"runs": 2}

        ekp_people = [e for e in env.ekp.state.elements.values() if e.type.value == "person" and e.is_available]
        local = await Person.filter(org_id=env.org.id, is_active=True).values_list("source_id", flat=True)
        assert sorted(local) == sorted(e.id for e in ekp_people)  # each once
        mobiles = [u.mobile for k, u in env.ding_users().items() if k not in already]
        assert len(mobiles) == len(set(mobiles)) == len(ekp_people)  # pushed once each, nobody twice
        assert {p.mobile_no for p in ekp_people} == set(mobiles)
    finally:
        await proxy.close()
        await sync_env.close_env(env)
