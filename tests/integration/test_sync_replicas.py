"""Two replicas sharing one database tick the scheduler at the same moment: exactly one of them runs the sync.

Each replica is a real child process with its own ORM connection and DingTalk client, pointed at the same database
(the SQLite file, or the PostgreSQL database when the suite runs on PostgreSQL) and at the simulators this test
serves over loopback.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from pathlib import Path

from cryptography.fernet import Fernet

from app.core.security import install_secret_key
from app.models.sync import RunResult, RunTrigger, SyncRun
from tests.integration import sync_env

ROOT = Path(__file__).resolve().parents[2]

REPLICA = """
import asyncio, json, sys, time
from datetime import datetime, timedelta

async def main(url, key, ding, start_at):
    from tortoise import Tortoise
    from app import runtime
    from app.core.config import Settings
    from app.core.db import build_config
    from app.core.security import install_secret_key
    from app.sync import runner, scheduler

    install_secret_key(key)
    await Tortoise.init(config=build_config(url))
    await runtime.start(
        Settings(dingtalk_oapi_base=ding, dingtalk_api_base=ding, dingtalk_qps=200, ekp_page_size=25),
        run_workers=False,
    )
    now = datetime.now()
    await asyncio.sleep(max(0.0, start_at - time.time()))
    # The default cron fires every two hours: a three-hour window always holds a fire time.
    await scheduler.tick(now - timedelta(hours=3), now, runtime.get())
    tasks = list(runner._tasks.values())
    for task in tasks:
        await task
    print(json.dumps({"started": len(tasks)}))
    await runtime.stop()
    await Tortoise.close_connections()

asyncio.run(main(sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])))
"""


async def _replica(url: str, key: str, ding: str, start_at: float, data_dir: Path) -> dict:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        REPLICA,
        url,
        key,
        ding,
        str(start_at),
        cwd=str(ROOT),
        env={
            "PATH": "/usr/bin:/bin",
            "LANDING_DATA_DIR": str(data_dir),
            "LANDING_LOG_JSON": "false",
            # the EKP simulator listens on loopback (tests/conftest.py allows it explicitly)
            "LANDING_OUTBOUND_ALLOWED_RANGES": os.environ.get("LANDING_OUTBOUND_ALLOWED_RANGES", ""),
        },
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), timeout=120)
    assert proc.returncode == 0, err.decode()[-2000:]
    return json.loads(out.decode().strip().splitlines()[-1])


async def test_only_one_replica_runs_a_scheduled_sync(orm: str, tmp_path: Path) -> None:
    key = Fernet.generate_key().decode()
    install_secret_key(key)  # the replicas decrypt the org's secrets with the same key
    env = await sync_env.make_env()
    try:
        start_at = time.time() + 4.0  # both replicas import and connect first, then tick together
        results = await asyncio.gather(
            *(_replica(orm, key, env.ding.base_url, start_at, tmp_path / f"replica{n}") for n in (1, 2))
        )
        assert sorted(r["started"] for r in results) == [0, 1]
        runs = await SyncRun.filter(org_id=env.org.id)
        assert len(runs) == 1
        assert runs[0].trigger == RunTrigger.AUTO
        assert runs[0].result == RunResult.SUCCESS, runs[0].error
        ekp_people = [e for e in env.ekp.state.elements.values() if e.type.value == "person" and e.is_available]
        mobiles = [u.mobile for u in env.ding_users().values()]
        assert len(mobiles) == len(set(mobiles))  # pushed once, nobody twice
        assert {p.mobile_no for p in ekp_people} <= set(mobiles)

        # A replica that ticks later for the same fire time sees the run and does not repeat it.
        later = await _replica(orm, key, env.ding.base_url, time.time(), tmp_path / "replica3")
        assert later["started"] == 0
        assert await SyncRun.filter(org_id=env.org.id).count() == 1
    finally:
        await sync_env.close_env(env)
