"""日志清理: sync logs older than 系统设置 > 同步日志保留天数 are deleted once a day.

System initialisation lists the job (catalog ``log_cleanup``, every day at 03:30 in the 系统设置 time zone) and the
系统设置 page offers the number of days (180 by default; ``LANDING_SYNC_LOG_RETENTION_DAYS`` before initialisation),
so both must do what they say. A run is deleted with its detailed log (its entries) once it ended more than that
many days ago, except each org's latest run (the 同步设置 page shows its result) and a run whose held-back removals
an admin approved (the next run reads it). Several replicas may clean at the same time: deleting is idempotent.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta

from tortoise.functions import Max

from app import runtime
from app.models.sync import RunResult, SyncEntry, SyncRun, SyncSettings
from app.services import catalog, system_params
from app.services.write import write
from app.sync import scheduler

log = logging.getLogger(__name__)

JOB_CODE = "log_cleanup"
PARAM_KEY = "sync_log_retention_days"
TICK_SECONDS = 60.0
BATCH = 500


def job_cron() -> str:
    return next(cron for code, _, cron in catalog.JOBS if code == JOB_CODE)


async def retention_days(default: int) -> int:
    """The saved 同步日志保留天数, else ``default`` (the setting of the process)."""
    value = await system_params.get_value(PARAM_KEY, default)
    try:
        return max(1, int(value))
    except (TypeError, ValueError):
        return default


async def prune_sync_logs(days: int, now: datetime) -> int:
    """Delete the runs (and their entries) that ended more than ``days`` days before ``now``; returns how many."""
    cutoff = now - timedelta(days=days)
    latest = await SyncRun.annotate(last=Max("id")).group_by("org_id").values_list("last", flat=True)
    approved = await SyncSettings.filter(approved_run_id__isnull=False).values_list("approved_run_id", flat=True)
    keep = set(latest) | set(approved)
    deleted = 0
    while True:
        ids = [
            i
            for i in await SyncRun.filter(ended_at__lt=cutoff)
            .exclude(result=RunResult.RUNNING)
            .exclude(id__in=list(keep) or [0])
            .order_by("id")
            .limit(BATCH)
            .values_list("id", flat=True)
        ]
        if not ids:
            return deleted
        async with write(None):  # a batch of runs and their entries go together; no admin, so no audit line
            await SyncEntry.filter(run_id__in=ids).delete()
            deleted += await SyncRun.filter(id__in=ids).delete()
        await asyncio.sleep(0)  # let pages answer between batches


async def tick(last: datetime, now: datetime, default_days: int) -> int | None:
    """One pass: clean when the job's cron fired in (last, now] (local wall-clock times); the number deleted."""
    if scheduler.due_since(job_cron(), last, now) is None:
        return None
    days = await retention_days(default_days)
    deleted = await prune_sync_logs(days, datetime.now(UTC))
    if deleted:
        log.info("日志清理: deleted %d sync runs that ended more than %d days ago", deleted, days)
    return deleted


async def run_retention(rt: runtime.Runtime) -> None:
    """The worker: check the job's schedule every ``TICK_SECONDS``."""
    days = rt.settings.sync_log_retention_days
    await scheduler.follow_clock(lambda last, now: tick(last, now, days), TICK_SECONDS, "日志清理")
