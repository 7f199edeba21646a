"""The disk fills up in the middle of a full sync (SQLite on a size-limited tmpfs): the run stops with the reason
instead of hanging, and once space is freed the next run is full again and converges: every EKP person once in
LanDing and once in DingTalk. Skipped where the machine does not allow mounting a tmpfs."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from tortoise import Tortoise

from app.core.db import build_config
from app.core.security import install_secret_key
from app.models.contacts import Person
from app.models.sync import RunKind, RunResult, SyncRun
from tests.integration import sync_env

ROOT = Path(__file__).resolve().parents[2]

RUN = """
import asyncio, json, sys

async def main(url, key, ding, qps, org_id):
    from tortoise import Tortoise
    from app import runtime
    from app.core.config import Settings
    from app.core.db import build_config
    from app.core.security import install_secret_key
    from app.models.sync import RunTrigger
    from app.sync import runner

    install_secret_key(key)
    await Tortoise.init(config=build_config(url))
    await runtime.start(
        Settings(dingtalk_oapi_base=ding, dingtalk_api_base=ding, dingtalk_qps=float(qps), ekp_page_size=10),
        run_workers=False,
    )
    try:
        run = await runner.run(int(org_id), RunTrigger.MANUAL, rt=runtime.get())
        print(json.dumps({"result": str(run.result), "kind": str(run.kind), "error": run.error}), flush=True)
    except Exception as exc:  # the run row could not even be written
        print(json.dumps({"result": "crashed", "error": f"{exc.__class__.__name__}: {exc}"}), flush=True)
    await runtime.stop()
    await Tortoise.close_connections()

asyncio.run(main(*sys.argv[1:]))
"""


@pytest.fixture
def small_disk(tmp_path: Path):
    point = tmp_path / "small"
    point.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=12m", "tmpfs", str(point)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    yield point
    subprocess.run(["umount", str(point)], capture_output=True)


async def _run_child(url: str, key: str, ding: str, qps: int, org_id: int):
    return await asyncio.create_subprocess_exec(
        sys.executable, "-c", RUN, url, key, ding, str(qps), str(org_id), cwd=str(ROOT),
        env={
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "LANDING_LOG_JSON": "false",
            "LANDING_OUTBOUND_ALLOWED_RANGES": os.environ.get("LANDING_OUTBOUND_ALLOWED_RANGES", ""),
        },
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip


def _fill(folder: Path) -> Path:
    filler = folder / "filler.bin"
    with filler.open("wb") as out:
        try:
            while True:
                out.write(b"\0" * 65536)
                out.flush()
        except OSError:
            pass
    return filler


async def test_the_disk_filling_during_a_full_sync(small_disk: Path) -> None:
    url = f"sqlite://{small_disk / 'landing.sqlite3'}"
    key = Fernet.generate_key().decode()
    install_secret_key(key)
    await Tortoise.init(config=build_config(url))
    await Tortoise.generate_schemas()
    env = await sync_env.make_env(depts=8, persons=60)
    already = set(env.ding_users())
    try:
        child = await _run_child(url, key, env.ding.base_url, 5, env.org.id)  # pushes slowly: 5 calls a second
        deadline = time.monotonic() + 120
        while len(env.ding_users()) < len(already) + 3:  # the push has begun
            assert time.monotonic() < deadline and child.returncode is None, "the run never reached the push"
            await asyncio.sleep(0.05)
        filler = await asyncio.to_thread(_fill, small_disk)
        out, err = await asyncio.wait_for(child.communicate(), 180)  # it must end, not hang
        outcome = json.loads(out.decode().strip().splitlines()[-1])
        print(f"run during the full disk: {outcome}")
        assert outcome["result"] in ("failed", "crashed"), outcome
        assert "full" in outcome["error"].lower() or "磁盘" in outcome["error"], outcome
        filler.unlink()  # space is back

        again = await _run_child(url, key, env.ding.base_url, 200, env.org.id)
        out, err = await asyncio.wait_for(again.communicate(), 180)
        assert again.returncode == 0, err.decode()[-2000:]
        outcome = json.loads(out.decode().strip().splitlines()[-1])
        assert outcome == {"result": "success", "kind": "full", "error": ""}
        last = await SyncRun.all().order_by("-id").first()
        assert last is not None and last.result == RunResult.SUCCESS and last.kind == RunKind.FULL

        people = [e for e in env.ekp.state.elements.values() if e.type.value == "person" and e.is_available]
        local = await Person.filter(org_id=env.org.id, is_active=True).values_list("source_id", flat=True)
        assert sorted(local) == sorted(p.id for p in people)
        mobiles = [u.mobile for k, u in env.ding_users().items() if k not in already]
        assert len(mobiles) == len(set(mobiles)) == len(people)
    finally:
        await sync_env.close_env(env)
        await Tortoise.close_connections()
