"""``landing sync ORG [--full]`` in a child process against a migrated database and both simulators on loopback:
exit codes, the progress lines on stderr, the summary on stdout, and the run as the console records it."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from tortoise import Tortoise

from app.core.db import build_config, run_migrations
from app.core.security import install_secret_key
from app.models.audit import AuditLog
from app.models.sync import Lease, RunKind, RunResult, SyncRun, SyncSettings
from app.sync import lease
from tests.integration import sync_env
from tests.integration.sync_env import SyncEnv

ROOT = Path(__file__).parents[2]


@dataclass
class Cli:
    env: SyncEnv
    child_env: dict[str, str]

    async def run(self, *args: str) -> tuple[int, str, str]:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "app.cli",
            "sync",
            *args,
            cwd=ROOT,
            env=self.child_env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await asyncio.wait_for(process.communicate(), 180)
        return process.returncode, out.decode(), err.decode()


@pytest.fixture
async def cli(db_url: str, tmp_path: Path) -> AsyncIterator[Cli]:
    # The database as `landing serve` leaves it: migrated, secrets encrypted with the key the child also gets.
    key = Fernet.generate_key().decode()
    install_secret_key(key)
    await run_migrations(db_url)
    await Tortoise.init(config=build_config(db_url))
    env = await sync_env.make_env()
    child_env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "NICEGUI", "LANDING_"))},
        "LANDING_DATA_DIR": str(tmp_path / "data"),
        "LANDING_DATABASE_URL": db_url,
        "LANDING_SECRET_KEY": key,
        "LANDING_SESSION_SECRET": "s" * 32,
        "LANDING_DINGTALK_OAPI_BASE": env.ding.base_url,
        "LANDING_DINGTALK_API_BASE": env.ding.base_url,
        "LANDING_DINGTALK_QPS": "200",
        "LANDING_LOG_JSON": "false",
        "LANDING_OUTBOUND_ALLOWED_RANGES": os.environ.get("LANDING_OUTBOUND_ALLOWED_RANGES", ""),
    }
    try:
        yield Cli(env, child_env)
    finally:
        await sync_env.close_env(env)
        await Tortoise.close_connections()


async def test_sync_by_name_runs_in_the_foreground_and_prints_the_summary(cli: Cli) -> None:
    code, out, err = await cli.run("叮当科技")
    assert code == 0, out + err
    assert "结果：成功" in out and "从EKP同步部门获取" in out
    assert "开始同步「叮当科技」" in err and "100% 已结束：成功" in err
    assert "\r" not in err  # on a pipe the bar prints plain lines (which stages show depends on sampling)
    run = await SyncRun.get(org_id=cli.env.org.id)
    assert run.result == RunResult.SUCCESS and run.kind == RunKind.FULL  # no cursor yet: the first run is full
    ekp_people = [e for e in cli.env.ekp.state.elements.values() if e.type.value == "person" and e.is_available]
    assert {p.mobile_no for p in ekp_people} <= {u.mobile for u in cli.env.ding_users().values()}
    assert await AuditLog.exists(action="sync.run", account_login="(cli)", org_id=cli.env.org.id)

    code, out, _ = await cli.run(str(cli.env.org.id))  # by id; cursors now set: incremental
    assert code == 0 and "结果：成功" in out
    code, out, _ = await cli.run(str(cli.env.org.id), "--full")
    assert code == 0
    kinds = [r.kind for r in await SyncRun.filter(org_id=cli.env.org.id).order_by("id")]
    assert kinds == [RunKind.FULL, RunKind.INCREMENTAL, RunKind.FULL]


async def test_failed_run_exits_non_zero_with_the_reason(cli: Cli) -> None:
    await SyncSettings.filter(org_id=cli.env.org.id).update(source_password="wrong-password")
    code, out, err = await cli.run("叮当科技")
    assert code == 1, out + err
    assert "结果：失败" in out
    run = await SyncRun.get(org_id=cli.env.org.id)
    assert run.result == RunResult.FAILED and run.error
    assert run.error in out or run.summary.splitlines()[0] in out


async def test_unknown_org_and_busy_org(cli: Cli) -> None:
    code, _, err = await cli.run("没有这个组织")
    assert code == 2 and "找不到组织「没有这个组织」" in err
    await Lease.create(
        name=lease.org_lease(cli.env.org.id),
        holder="replica-2:4242:abcd",
        expires_at=datetime.now(UTC) + timedelta(minutes=2),
    )
    code, _, err = await cli.run("叮当科技")
    assert code == 3 and "同步正在进行中" in err
    assert not await SyncRun.exists()
