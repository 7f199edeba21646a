"""Sync runs started and read from outside the browser: the ``/api/v1/orgs/{id}/sync-runs`` API and the
``landing sync`` command.

Same rules as the 同步设置 page: starting a run needs 通讯录同步 in that org, reading needs 查看同步日志; one run
per org at a time (``RunBusy`` -> 409 同步正在进行中). Starting is audited like 立即同步.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from app.models.orgs import Org
from app.models.sync import RunResult, RunTrigger, SyncRun
from app.runtime import Runtime
from app.services.errors import NotFound, ServiceError
from app.services.permissions import Actor, Perm, authorize
from app.services.sync_runs import KIND_LABELS, RESULT_LABELS, TRIGGER_LABELS
from app.services.write import write, writer
from app.sync import progress as live
from app.sync import runner
from app.sync.progress import STAGE_LABELS

MAX_PAGE_SIZE = 100


class RunBusy(ServiceError):
    """Another run of this org is going (here or on another replica)."""


@dataclass
class RunDetail:
    id: int
    org_id: int
    trigger: str
    kind: str
    full: bool
    result: str
    result_label: str
    stage: str
    started_at: datetime
    ended_at: datetime | None
    progress_done: int
    progress_total: int
    summary: str
    error: str
    threshold_blocked: bool
    counters: dict[str, Any] = field(default_factory=dict)


@dataclass
class RunList:
    items: list[RunDetail]
    total: int
    page: int
    page_size: int


def _detail(run: SyncRun) -> RunDetail:
    done, total, counters, stage = run.progress_done, run.progress_total, dict(run.counters or {}), run.stage
    p = live.current(run.org_id) if run.result == RunResult.RUNNING else None
    if p is not None and p.run_id == run.id:  # running in this process: the live numbers are fresher
        done, total, counters, stage = p.done, p.total, dict(p.counters), p.stage
    return RunDetail(
        id=run.id,
        org_id=run.org_id,
        trigger=TRIGGER_LABELS.get(run.trigger, str(run.trigger)),
        kind=KIND_LABELS.get(run.kind, str(run.kind)),
        full=str(run.kind) == "full",
        result=str(run.result),
        result_label=RESULT_LABELS.get(run.result, str(run.result)),
        stage=STAGE_LABELS.get(stage, stage),
        started_at=run.started_at,
        ended_at=run.ended_at,
        progress_done=done,
        progress_total=total,
        summary=run.summary,
        error=run.error,
        threshold_blocked=run.threshold_blocked,
        counters=counters,
    )


async def _org(org_id: int) -> Org:
    org = await Org.get_or_none(id=org_id)
    if org is None:
        raise NotFound("组织不存在或已解散")
    return org


async def start_run(actor: Actor, org_id: int, *, rt: Runtime, full: bool = False, via: str = "API") -> RunDetail:
    """Start one run of the org in the background and return its row (result 进行中)."""
    w = await writer(actor, Perm.SYNC_MANAGE, org_id=org_id, kind="sync_run")
    w.org_name = (await _org(org_id)).name
    try:
        run = await runner.start(org_id, RunTrigger.MANUAL, full=full, rt=rt)
    except runner.SyncBusy:
        raise RunBusy(runner.BUSY_MESSAGE) from None
    async with w:  # the run itself is the sync engine's; the service records who started it
        await w.audit("sync.run", object_id=run.id, detail=f"{via} 启动{'全量' if full else ''}同步")
    return _detail(run)


async def list_runs(actor: Actor, org_id: int, *, page: int = 1, page_size: int = 20) -> RunList:
    """The org's runs, newest first."""
    await authorize(actor, Perm.SYNC_LOG_VIEW, org_id)
    await _org(org_id)
    page_size = min(max(1, page_size), MAX_PAGE_SIZE)
    page = max(1, page)
    query = SyncRun.filter(org_id=org_id)
    total = await query.count()
    runs = await query.order_by("-started_at", "-id").offset((page - 1) * page_size).limit(page_size)
    return RunList([_detail(r) for r in runs], total, page, page_size)


async def get_run(actor: Actor, org_id: int, run_id: int) -> RunDetail:
    await authorize(actor, Perm.SYNC_LOG_VIEW, org_id)
    run = await SyncRun.get_or_none(id=run_id, org_id=org_id)
    if run is None:
        raise NotFound("同步日志不存在")
    return _detail(run)


async def find_org(reference: str) -> Org:
    """``landing sync ORG``: ORG is the org's id or its exact name."""
    reference = reference.strip()
    org = await Org.get_or_none(id=int(reference)) if reference.isdigit() else None
    if org is None:
        matches = await Org.filter(name=reference).limit(2)
        if len(matches) > 1:
            raise NotFound(f"有多个组织名为「{reference}」，请改用组织ID")
        org = matches[0] if matches else None
    if org is None:
        raise NotFound(f"找不到组织「{reference}」（可填组织ID或组织名称）")
    return org


async def start_run_as_operator(org_id: int, *, rt: Runtime, full: bool = False) -> RunDetail:
    """``landing sync``: whoever runs the command holds the server's keys; the start is audited as ``(cli)``."""
    org = await _org(org_id)
    try:
        run = await runner.start(org_id, RunTrigger.MANUAL, full=full, rt=rt)
    except runner.SyncBusy:
        raise RunBusy(runner.BUSY_MESSAGE) from None
    async with write(None, org_id=org_id, org_name=org.name, kind="sync_run") as w:
        await w.audit(
            "sync.run", login="(cli)", object_id=run.id, detail=f"命令行 landing sync 启动{'全量' if full else ''}同步"
        )
    return _detail(run)


async def operator_view(run_id: int) -> RunDetail:
    return _detail(await SyncRun.get(id=run_id))
