"""Sync logs (同步日志): the runs of an org, their per-object log, downloads, deletion, threshold approval, and the
live progress of a running sync."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from app.core import localtime
from app.models.orgs import Org
from app.models.sync import RunKind, RunResult, RunTrigger, SyncEntry, SyncRun, SyncSettings
from app.services.errors import NotFound, ValidationFailed
from app.services.permissions import Actor, Perm, authorize
from app.services.write import write, writer
from app.sync import progress as live
from app.sync import runner, summary
from app.sync.progress import STAGE_LABELS
from app.sync.summary import stage_title

TRIGGER_LABELS = {RunTrigger.AUTO: "自动同步", RunTrigger.MANUAL: "手动同步"}
KIND_LABELS = {RunKind.INCREMENTAL: "增量", RunKind.FULL: "全量"}
RESULT_LABELS = {
    RunResult.RUNNING: "进行中",
    RunResult.SUCCESS: "成功",
    RunResult.WARNING: "警告",
    RunResult.FAILED: "失败",
}
ACTION_WORDS = {
    "add": "新增",
    "update": "更新",
    "delete": "删除",
    "disable": "禁用",
    "ignore": "忽略",
    "callback": "回调",
    "threshold": "删除阈值",
    "added": "新增",
    "updated": "更新",
    "deleted": "删除",
    "disabled": "禁用",
    "skipped": "跳过",
    "keep": "保留",
    "repair": "修复",
    "pending": "待处理",
    "link": "关联",
    "report": "仅钉钉中存在",
}
OBJECT_WORDS = {"dept": "部门", "person": "人员"}
PAGE_SIZE = 20


@dataclass
class RunRow:
    id: int
    number: int
    started_at: datetime
    ended_at: datetime | None
    trigger: str
    kind: str
    result: str
    result_code: str
    summary: str
    error: str
    org_name: str = ""
    threshold_blocked: bool = False
    approved: bool = False
    rejected: bool = False
    pending_removals: list[dict[str, Any]] = field(default_factory=list)  # what the threshold held back


@dataclass
class RunPage:
    rows: list[RunRow]
    total: int
    page: int
    pages: int


@dataclass
class LiveStatus:
    run_id: int
    stage: str
    step: str
    done: int
    total: int
    fraction: float
    summary: str
    counters: dict[str, Any] = field(default_factory=dict)


def _row(run: SyncRun, number: int, org_name: str = "", approved_id: int | None = None) -> RunRow:
    return RunRow(
        id=run.id,
        number=number,
        started_at=run.started_at,
        ended_at=run.ended_at,
        trigger=TRIGGER_LABELS.get(run.trigger, str(run.trigger)),
        kind=KIND_LABELS.get(run.kind, str(run.kind)),
        result=RESULT_LABELS.get(run.result, str(run.result)),
        result_code=str(run.result),
        summary=run.summary or (STAGE_LABELS.get(run.stage, "") if run.result == RunResult.RUNNING else ""),
        error=run.error,
        org_name=org_name,
        threshold_blocked=run.threshold_blocked,
        approved=run.decision == "approved" or bool(run.approved_by) or approved_id == run.id,
        rejected=run.decision == "rejected",
        pending_removals=list(run.pending_removals or []),
    )


async def list_runs(
    actor: Actor,
    org_id: int,
    *,
    page: int = 1,
    keyword: str = "",
    result: str = "",
    trigger: str = "",
    kind: str = "",
    page_size: int = PAGE_SIZE,
) -> RunPage:
    await authorize(actor, Perm.SYNC_LOG_VIEW, org_id)
    query = SyncRun.filter(org_id=org_id)
    if keyword.strip():
        query = query.filter(summary__icontains=keyword.strip())
    if result:
        query = query.filter(result=result)
    if trigger:
        query = query.filter(trigger=trigger)
    if kind:
        query = query.filter(kind=kind)
    total = await query.count()
    pages = max(1, -(-total // page_size))
    page = min(max(1, page), pages)
    runs = await query.order_by("-started_at", "-id").offset((page - 1) * page_size).limit(page_size)
    # 序号 is the run's own number, the one the 立即同步 toast names (第 N 次), not its place on this page.
    return RunPage([_row(r, r.id) for r in runs], total, page, pages)


async def _run_of(actor: Actor, run_id: int, perm: Perm = Perm.SYNC_LOG_VIEW) -> SyncRun:
    run = await SyncRun.get_or_none(id=run_id)
    if run is None:
        raise NotFound("同步日志不存在")
    await authorize(actor, perm, run.org_id)
    return run


async def get_run(actor: Actor, run_id: int) -> RunRow:
    run = await _run_of(actor, run_id)
    org = await Org.get(id=run.org_id)
    settings = await SyncSettings.get_or_none(org_id=run.org_id)
    return _row(run, 0, org.name, settings.approved_run_id if settings else None)


def _entry_line(entry: SyncEntry) -> str:
    what = OBJECT_WORDS.get(entry.object_type, entry.object_type)
    verb = ACTION_WORDS.get(entry.action, entry.action)
    ding = f"钉钉ID: {entry.ding_id}"
    ids = f"蓝钉ID: {entry.local_id or ''}" + (f", EKP ID: {entry.source_id}" if entry.source_id else "")
    head = f"{verb}{what}: {entry.object_name} ({ding}), {ids}"
    if entry.ok:
        return f"{head}, {entry.message}"
    code = f"{entry.error_code} " if entry.error_code and entry.error_code not in entry.message else ""
    return f"{head}, {code}{entry.message}"


async def _log_text(run: SyncRun, errors_only: bool) -> str:
    settings = await SyncSettings.get_or_none(org_id=run.org_id)
    source_name = (settings.source_name or settings.source_type) if settings else "EKP"
    lines = ["---同步开始---", f"---同步时间戳: {localtime.fmt(run.started_at)}---"]
    query = SyncEntry.filter(run_id=run.id)
    if errors_only:
        query = query.filter(ok=False)
    current = None
    for stage in summary.STAGE_ORDER:
        lines.append(f"---开始执行: {stage_title(stage, source_name)}---")
        current = stage
        offset = 0
        while True:
            batch = await query.filter(stage=current).order_by("id").offset(offset).limit(2000)
            if not batch:
                break
            lines.extend(_entry_line(e) for e in batch)
            offset += len(batch)
    if run.error:
        lines.append(f"---错误: {run.error}---")
    lines.append(f"---同步结束: {RESULT_LABELS.get(run.result, run.result)}---")
    return "\n".join(lines) + "\n"


async def detail_log_text(actor: Actor, run_id: int) -> str:
    return await _log_text(await _run_of(actor, run_id), errors_only=False)


async def error_log_text(actor: Actor, run_id: int) -> str:
    return await _log_text(await _run_of(actor, run_id), errors_only=True)


async def entries(actor: Actor, run_id: int, *, errors_only: bool = False, limit: int = 500) -> list[str]:
    run = await _run_of(actor, run_id)
    query = SyncEntry.filter(run_id=run.id)
    if errors_only:
        query = query.filter(ok=False)
    return [_entry_line(e) for e in await query.order_by("id").limit(limit)]


async def delete_runs(actor: Actor, org_id: int, run_ids: list[int]) -> int:
    w = await writer(actor, Perm.SYNC_MANAGE, org_id=org_id, kind="sync_run")
    if not run_ids:
        raise ValidationFailed("请先选择要删除的同步日志")
    w.org_name = (await Org.get(id=org_id)).name
    async with w:
        runs = await SyncRun.filter(org_id=org_id, id__in=run_ids).exclude(result=RunResult.RUNNING)
        ids = [r.id for r in runs]
        if ids:
            await SyncEntry.filter(run_id__in=ids).delete()
            await SyncRun.filter(id__in=ids).delete()
        await w.audit(
            "sync.logs.delete",
            object_id=",".join(map(str, ids)),
            detail=f"删除同步日志{len(ids)}条",
        )
    return len(ids)


async def _blocked_run(actor: Actor, run_id: int) -> SyncRun:
    run = await _run_of(actor, run_id, Perm.SYNC_MANAGE)
    if not run.threshold_blocked:
        raise ValidationFailed("该次同步没有因删除记录阈值暂停删除，无需处理")
    if run.decision:
        raise ValidationFailed("该次同步的删除已处理（已批准或已拒绝）")
    latest = await SyncRun.filter(org_id=run.org_id, threshold_blocked=True).order_by("-id").first()
    if latest is not None and latest.id != run.id:
        raise ValidationFailed("只能处理最近一次因删除记录阈值暂停删除的同步")
    return run


async def approve_removals(actor: Actor, run_id: int) -> None:
    """批准本次删除: the removals a threshold-blocked run held back are performed by the next run."""
    run = await _blocked_run(actor, run_id)
    org = await Org.get(id=run.org_id)
    await runner.settings_of(run.org_id)
    async with write(actor, org_id=org.id, org_name=org.name, kind="sync_run") as w:  # _blocked_run checked
        await SyncSettings.filter(org_id=run.org_id).update(approved_run_id=run.id)
        run.approved_by = actor.login
        run.decision = "approved"
        await run.save(update_fields=["approved_by", "decision"])
        await w.audit(
            "sync.threshold.approve",
            object_id=run.id,
            detail=f"批准删除{len(run.pending_removals or [])}条",
        )


async def reject_removals(actor: Actor, run_id: int) -> int:
    """拒绝: the held-back objects are kept; later runs leave them alone (an admin removes them by hand if needed).
    Returns how many objects are kept."""
    run = await _blocked_run(actor, run_id)
    org = await Org.get(id=run.org_id)
    settings = await runner.settings_of(run.org_id)
    kept = {k: set(v) for k, v in (settings.kept_removals or {}).items()}
    items = list(run.pending_removals or [])
    for item in items:
        kept.setdefault(item["kind"], set()).add(int(item["id"]))
    async with write(actor, org_id=org.id, org_name=org.name, kind="sync_run") as w:  # _blocked_run checked
        await SyncSettings.filter(id=settings.id).update(
            kept_removals={k: sorted(v) for k, v in kept.items()}, approved_run_id=None
        )
        run.approved_by = actor.login
        run.decision = "rejected"
        await run.save(update_fields=["approved_by", "decision"])
        await w.audit(
            "sync.threshold.reject",
            object_id=run.id,
            detail=f"拒绝删除{len(items)}条：" + "、".join(i["name"] for i in items[:20]),
        )
    return len(items)


async def live_status(actor: Actor, org_id: int) -> LiveStatus | None:
    """The running sync of the org, if any: in memory when it runs here, else from its row (another replica)."""
    await authorize(actor, Perm.SYNC_LOG_VIEW, org_id)
    p = live.current(org_id)
    if p is not None:
        return LiveStatus(
            p.run_id, p.stage_label, p.step, p.done, p.total, p.fraction, _counts_text(p.counters), p.counters
        )
    run = await SyncRun.filter(org_id=org_id, result=RunResult.RUNNING).order_by("-id").first()
    if run is None:
        return None
    fraction = min(1.0, run.progress_done / run.progress_total) if run.progress_total else 0.0
    return LiveStatus(
        run.id,
        STAGE_LABELS.get(run.stage, run.stage),
        "",
        run.progress_done,
        run.progress_total,
        fraction,
        _counts_text(run.counters or {}),
        run.counters or {},
    )


def _counts_text(counters: dict[str, Any]) -> str:
    from app.sync.summary import build

    return build(counters) if counters else ""
