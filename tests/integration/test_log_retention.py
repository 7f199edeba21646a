"""日志清理: sync logs older than 同步日志保留天数 go, with their detailed logs; what a page still needs stays."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from app.models.sync import RunKind, RunResult, RunTrigger, SyncEntry, SyncRun, SyncSettings
from app.models.system import SystemParam
from app.services import log_retention
from tests import factories

NOW = datetime(2026, 12, 1, 4, 0, tzinfo=UTC)


async def _run(org, days_ago: float, result: RunResult = RunResult.SUCCESS, entries: int = 2) -> SyncRun:
    run = await SyncRun.create(
        org=org, trigger=RunTrigger.AUTO, kind=RunKind.INCREMENTAL, result=result, stage="done", summary="人员获取3条"
    )
    ended = None if result == RunResult.RUNNING else NOW - timedelta(days=days_ago)
    await SyncRun.filter(id=run.id).update(started_at=NOW - timedelta(days=days_ago, minutes=5), ended_at=ended)
    for n in range(entries):
        await SyncEntry.create(run=run, stage="push", action="update", object_type="person", object_name=f"张{n}")
    return run


async def test_runs_past_the_retention_go_with_their_entries_the_rest_stay(orm: str) -> None:
    org = await factories.org("叮当科技", "corpA", is_main=True)
    other = await factories.org("叮当分公司", "corpB")
    old = await _run(org, 200)
    old_running = await _run(org, 300, RunResult.RUNNING)  # never ended: not a finished log
    approved = await _run(org, 250, RunResult.WARNING)
    await SyncSettings.create(org=org, approved_run_id=approved.id)
    recent = await _run(org, 10)
    only_one = await _run(other, 400)  # the other org's latest run: 同步设置 shows its result
    assert await log_retention.prune_sync_logs(180, NOW) == 1
    left = set(await SyncRun.all().values_list("id", flat=True))
    assert left == {old_running.id, approved.id, recent.id, only_one.id}
    assert not await SyncEntry.filter(run_id=old.id).exists()
    assert await SyncEntry.filter(run_id=recent.id).count() == 2


async def test_the_saved_retention_days_decide_and_the_setting_is_the_default(orm: str) -> None:
    assert await log_retention.retention_days(180) == 180  # before system initialisation saved a value
    await SystemParam.create(key="sync_log_retention_days", label="同步日志保留天数", value={"value": 7})
    assert await log_retention.retention_days(180) == 7
    org = await factories.org("叮当科技", "corpA", is_main=True)
    week_old = await _run(org, 8)
    await _run(org, 1)
    assert await log_retention.prune_sync_logs(await log_retention.retention_days(180), NOW) == 1
    assert not await SyncRun.exists(id=week_old.id)


async def test_the_job_runs_at_its_catalog_time_only(orm: str) -> None:
    assert log_retention.job_cron() == "30 3 * * *"  # the 日志清理 job system initialisation lists
    org = await factories.org("叮当科技", "corpA", is_main=True)
    old = await _run(org, 400)
    await _run(org, 0)
    day = datetime(2026, 12, 1)
    assert await log_retention.tick(day.replace(hour=1), day.replace(hour=3), 180) is None  # 03:30 not reached
    assert await SyncRun.exists(id=old.id)
    assert await log_retention.tick(day.replace(hour=3), day.replace(hour=4), 180) == 1
    assert not await SyncRun.exists(id=old.id)
