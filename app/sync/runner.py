"""One contacts sync run of one org, in the guide's order (3.3.6.4): failed callbacks -> source -> push.

Only one run per org at a time: an in-process set plus a database lease (several replicas). A second request is told
同步正在进行中. A run left "running" by a crash is closed as 失败 when the org's next run starts; since every write is
an idempotent upsert keyed by ids and cursors move only after commits, that next run converges.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime

from app import runtime
from app.core import localtime, metrics
from app.core.change_tracking import now_ms
from app.models.access import TOMBSTONE_DAYS, FeedTombstone
from app.models.orgs import Org
from app.models.sync import RunKind, RunResult, RunTrigger, SyncRun, SyncSettings
from app.sync import lease, resume, summary, turns
from app.sync import progress as live
from app.sync.context import ConfigFailure, RunContext

log = logging.getLogger(__name__)

BUSY_MESSAGE = "同步正在进行中"
FULL_MARK = "full"
RECONCILED_MARK = "reconciled_ms"  # when a run last compared every object with DingTalk
MAX_LISTED = 5000  # held-back removals listed on one run (the count in the message is always complete)
_running: set[int] = set()
_tasks: dict[int, asyncio.Task[SyncRun]] = {}


class SyncBusy(Exception):
    def __init__(self) -> None:
        super().__init__(BUSY_MESSAGE)


async def settings_of(org_id: int) -> SyncSettings:
    settings = await SyncSettings.get_or_none(org_id=org_id)
    if settings is None:
        settings, _ = await SyncSettings.get_or_create(org_id=org_id)
    return settings


def is_running(org_id: int) -> bool:
    return org_id in _running


def task_of(org_id: int) -> asyncio.Task[SyncRun] | None:
    return _tasks.get(org_id)


async def claim(org_id: int) -> None:
    """Take the org for sync work (runs and callback processing); raises ``SyncBusy`` when someone else has it."""
    if org_id in _running:
        raise SyncBusy()
    _running.add(org_id)
    try:
        if not await lease.acquire(lease.org_lease(org_id)):
            raise SyncBusy()
    except BaseException:
        _running.discard(org_id)
        raise


async def unclaim(org_id: int) -> None:
    try:
        await lease.release(lease.org_lease(org_id))
    finally:
        _running.discard(org_id)


async def start(org_id: int, trigger: RunTrigger, *, full: bool = False, rt: runtime.Runtime) -> SyncRun:
    """Claim the org, create the run row and run it in the background; returns the row at once.

    ``rt`` is the runtime whose DingTalk client, HTTP session and task registry the run uses (workers pass theirs,
    services the one their caller handed them)."""
    async with turns.run_turn(org_id):  # a callback round in progress ends first
        await claim(org_id)
    try:
        run, ctx = await _prepare(org_id, trigger, full, rt)
    except BaseException:
        await unclaim(org_id)
        raise
    name = f"sync-org-{org_id}"
    task = rt.tasks.spawn(name, _execute(ctx))
    _tasks[org_id] = task
    task.add_done_callback(lambda t, o=org_id: _tasks.pop(o, None) if _tasks.get(o) is t else None)
    return run


async def run(
    org_id: int, trigger: RunTrigger = RunTrigger.MANUAL, *, full: bool = False, rt: runtime.Runtime
) -> SyncRun:
    """Start a run and wait for its end (scheduler, CLI, tests)."""
    started = await start(org_id, trigger, full=full, rt=rt)
    task = _tasks.get(org_id)
    if task is not None:
        return await task
    return await SyncRun.get(id=started.id)


async def _close_stale(org_id: int) -> None:
    # We hold the lease, so any "running" row of this org belongs to a run that died.
    await SyncRun.filter(org_id=org_id, result=RunResult.RUNNING).update(
        result=RunResult.FAILED, ended_at=datetime.now(UTC), error="同步被中断（进程退出或被取消），已在下次同步时关闭"
    )


async def _prepare(org_id: int, trigger: RunTrigger, full: bool, rt: runtime.Runtime) -> tuple[SyncRun, RunContext]:
    org = await Org.get(id=org_id)
    await _close_stale(org_id)
    settings = await settings_of(org_id)
    # No cursor at all (first run, or 清空同步时间戳) means a full run: the source is read whole and every local
    # object is compared with DingTalk.
    full = full or not settings.cursors or FULL_MARK in settings.cursors or await resume.full_owed(org_id)
    run_row = await SyncRun.create(
        org_id=org_id, trigger=trigger, kind=RunKind.FULL if full else RunKind.INCREMENTAL, stage=""
    )
    ctx = RunContext(org=org, run=run_row, settings=settings, client=rt.dingtalk, rt=rt, full=full)
    ctx.reconcile = _reconcile_due(settings, full)
    ctx.approved = settings.approved_run_id is not None
    ctx.progress = live.begin(org_id, run_row.id)
    return run_row, ctx


async def _keep_lease(org_id: int) -> None:
    while True:
        await asyncio.sleep(lease.HEARTBEAT.total_seconds())
        with contextlib.suppress(Exception):
            await lease.renew(lease.org_lease(org_id))


async def _execute(ctx: RunContext) -> SyncRun:
    from app.sync import callbacks, push, reconcile, source  # stages import the runner's context only

    org_id = ctx.org.id
    run_row = ctx.run
    keeper = asyncio.create_task(_keep_lease(org_id))
    result = RunResult.SUCCESS
    error = ""
    try:
        try:
            await callbacks.catch_up(ctx)
            if ctx.settings.source_enabled:
                await source.run(ctx)
            if ctx.reconcile:
                await reconcile.run(ctx)
            await push.push(ctx)
            result = RunResult.WARNING if ctx.warnings else RunResult.SUCCESS
            if ctx.approved:
                await SyncSettings.filter(org_id=org_id).update(approved_run_id=None)
            await _settle_cursors(ctx)
            await _prune_tombstones(org_id)
        except ConfigFailure as exc:
            result, error = RunResult.FAILED, str(exc)
        except asyncio.CancelledError:
            result, error = RunResult.FAILED, "同步被中断（已取消），下次同步会从中断处继续"
            raise
        except Exception as exc:  # the run row must always be closed with a reason
            log.exception("sync run %s of org %s failed", run_row.id, org_id)
            result, error = RunResult.FAILED, f"同步异常：{exc.__class__.__name__}: {exc}"
        finally:
            await _finish(ctx, result, error)
    finally:
        keeper.cancel()
        live.end(org_id, run_row.id)
        await asyncio.shield(unclaim(org_id))
    return run_row


async def _prune_tombstones(org_id: int) -> None:
    cutoff = now_ms() - TOMBSTONE_DAYS * 86_400_000
    await FeedTombstone.filter(org_id=org_id, feed_time__lt=cutoff).delete()


def _reconcile_due(settings: SyncSettings, full: bool) -> bool:
    """Full runs always compare with DingTalk itself; otherwise every ``reconcile_days`` days (0 = never)."""
    if full:
        return True
    days = int(settings.reconcile_days or 0)
    last = (settings.cursors or {}).get(RECONCILED_MARK)
    if days <= 0 or not last:
        return False
    return now_ms() - int(last) >= days * 86_400_000


async def _settle_cursors(ctx: RunContext) -> None:
    """A finished run is the new baseline: drop the full-run mark; without a source, remember when it ran."""
    settings = await SyncSettings.get(id=ctx.settings.id)
    keep_full = ctx.threshold_blocked and FULL_MARK in (settings.cursors or {})
    cursors = {str(k): v for k, v in (settings.cursors or {}).items() if k != FULL_MARK or keep_full}
    if ctx.reconcile or RECONCILED_MARK not in cursors:
        cursors[RECONCILED_MARK] = str(now_ms())
    if not settings.source_enabled:
        cursors["push"] = localtime.fmt(datetime.now(UTC))  # shown beside the EKP cursor, in the same zone
    await SyncSettings.filter(id=settings.id).update(cursors=cursors)


async def _finish(ctx: RunContext, result: RunResult, error: str) -> None:
    async def close() -> None:
        run_row = ctx.run
        with contextlib.suppress(Exception):
            await ctx.flush(force=True)
        run_row.result = result
        run_row.error = error
        run_row.stage = "done"
        run_row.ended_at = datetime.now(UTC)
        notes = list(ctx.notes) + ([error] if error else [])
        run_row.summary = summary.build(ctx.counters, ctx.settings.source_name or ctx.settings.source_type, notes)
        run_row.counters = ctx.counters
        if ctx.blocked_removals:
            run_row.threshold_blocked = True
            run_row.pending_removals = ctx.blocked_removals[:MAX_LISTED]
        if ctx.progress is not None:
            run_row.progress_done, run_row.progress_total = ctx.progress.done, ctx.progress.total
        await run_row.save()
        metrics.sync_run_finished(ctx.org.id, run_row.kind, result, run_row.started_at, run_row.ended_at, ctx.counters)

    # Closing the row must survive the cancellation that may have ended the run.
    await asyncio.shield(close())
