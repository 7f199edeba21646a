"""Crash recovery: runs interrupted by a dead process are rerun by themselves, and a full run is owed until one
completes.

A run row still marked running whose org lease is free belongs to a process that died (``kill -9``, power loss,
OOM). On start-up, and every ``POLL_SECONDS`` after, such runs are started again with the same trigger and kind;
the runner closes the dead row as 失败 when the new one starts, and because every write is an idempotent upsert
keyed by ids and cursors only move after commits, the rerun converges. A process restarted after a crash takes
its own dead leases back at once (see ``lease``); other replicas take over within ``lease.STALE``.

A full run that did not complete (crashed, failed, stopped by the delete threshold) leaves the next runs full
until a full run completes: an incremental run would silently skip the deletion detection only a full run does.
"""

from __future__ import annotations

import asyncio
import logging

from app import runtime
from app.models.sync import Lease, RunKind, RunResult, SyncRun
from app.sync import lease

log = logging.getLogger(__name__)

POLL_SECONDS = 10.0
COMPLETED = (RunResult.SUCCESS, RunResult.WARNING)


async def full_owed(org_id: int) -> bool:
    """True when the org's latest full run did not complete (and no full run completed after it)."""
    last_full = await SyncRun.filter(org_id=org_id, kind=RunKind.FULL).order_by("-id").first()
    return last_full is not None and last_full.result not in COMPLETED


async def interrupted() -> list[SyncRun]:
    """Running rows whose org lease is free: their process is gone."""
    from app.sync import runner

    found = []
    for run in await SyncRun.filter(result=RunResult.RUNNING).order_by("id"):
        if runner.is_running(run.org_id) or any(r.org_id == run.org_id for r in found):
            continue
        row = await Lease.get_or_none(name=lease.org_lease(run.org_id))
        if row is not None and not lease.is_free(row):
            continue
        found.append(run)
    return found


async def resume_interrupted(rt: runtime.Runtime) -> list[int]:
    """Start again every interrupted run; returns the ids of the new runs."""
    from app.sync import runner

    started = []
    for run in await interrupted():
        try:
            new = await runner.start(run.org_id, run.trigger, full=run.kind == RunKind.FULL, rt=rt)
        except runner.SyncBusy:
            continue
        except Exception:
            log.exception("interrupted sync run %s of org %s could not be restarted", run.id, run.org_id)
            continue
        log.warning(
            "sync run %s of org %s was interrupted by a process that died; rerun as run %s", run.id, run.org_id, new.id
        )
        started.append(new.id)
    return started


async def loop(rt: runtime.Runtime) -> None:
    """The worker: look for interrupted runs at start-up and every ``POLL_SECONDS`` after."""
    while True:
        try:
            await resume_interrupted(rt)
        except Exception:
            log.exception("looking for interrupted sync runs failed")
        await asyncio.sleep(POLL_SECONDS)
