"""Background workers of the sync engine: the per-org cron runs and the callback processor.

Cron: every org's ``SyncSettings.cron`` (default every two hours) is read again on every tick, so a changed setting
takes effect without a restart. When several replicas share one database, the org lease lets exactly one of them
run a due job, and a run that another replica already started for the same fire time is not repeated.

Callbacks: the endpoint stores events and calls ``wake()``; the processor applies them shortly after, holding the
org's lease so it never races a sync run of the same org (a run applies pending events itself at its start).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime

from cronsim import CronSim, CronSimError

from app import runtime
from app.core import localtime
from app.dingtalk.client import DingTalkClient
from app.models.orgs import Org
from app.models.sync import CallbackEvent, RunTrigger, SyncRun
from app.sync import callbacks, runner, turns

log = logging.getLogger(__name__)

DEFAULT_CRON = "0 */2 * * *"
TICK_SECONDS = 20.0
CALLBACK_POLL_SECONDS = 5.0
_wake = asyncio.Event()


def validate_cron(expression: str) -> str | None:
    """None when ``expression`` is a valid five-field cron expression, else the reason."""
    text = (expression or "").strip()
    if len(text.split()) != 5:
        return "Cron表达式应为5段：分 时 日 月 周，例如 0 */2 * * *"
    try:
        CronSim(text, datetime.now())
    except (CronSimError, ValueError) as exc:
        return f"Cron表达式无效：{exc}"
    return None


def next_runs(expression: str, count: int = 5, start: datetime | None = None) -> list[datetime]:
    it = CronSim(expression.strip(), (start or localtime.now().replace(tzinfo=None)).replace(second=0, microsecond=0))
    return [next(it) for _ in range(count)]


def due_since(expression: str, last: datetime, now: datetime) -> datetime | None:
    """The latest fire time in (last, now], if any (wall-clock times in the 系统设置 time zone, as admins write
    cron expressions)."""
    try:
        it = CronSim(expression.strip(), last)
    except (CronSimError, ValueError):
        return None
    fire = None
    for candidate in it:
        if candidate > now:
            break
        fire = candidate
    return fire


async def tick(last: datetime, now: datetime, rt: runtime.Runtime) -> None:
    """One scheduler pass: start the scheduled run of every org whose cron fired in (last, now]."""
    # Every org syncs on a schedule (default every two hours), with or without saved settings.
    for org_id in await Org.all().values_list("id", flat=True):
        settings = await runner.settings_of(org_id)
        fire = due_since(settings.cron or DEFAULT_CRON, last, now)
        if fire is None:
            continue
        fire_utc = localtime.to_utc(fire)
        if await SyncRun.filter(org_id=settings.org_id, trigger=RunTrigger.AUTO, started_at__gte=fire_utc).exists():
            continue  # another replica already ran this fire time
        try:
            await runner.start(settings.org_id, RunTrigger.AUTO, rt=rt)
        except runner.SyncBusy:
            log.info("scheduled sync of org %s skipped: a sync is already running", settings.org_id)
        except Exception:
            log.exception("scheduled sync of org %s could not start", settings.org_id)


async def follow_clock(tick_once: Callable[[datetime, datetime], Awaitable[object]], seconds: float, what: str) -> None:
    """Every ``seconds``, call ``tick_once(last, now)`` with the wall-clock times (in the 系统设置 time zone, naive)
    of the previous and this tick, so cron expressions fire at the times admins wrote; a failed tick is logged."""
    last = localtime.now()
    while True:
        await asyncio.sleep(seconds)
        now = localtime.now()
        try:
            # A zone change between ticks is taken as of ``now``.
            await tick_once(localtime.local(last).replace(tzinfo=None), now.replace(tzinfo=None))
        except Exception:
            log.exception("%s failed", what)
        last = now


async def cron_loop(rt: runtime.Runtime) -> None:
    await follow_clock(lambda last, now: tick(last, now, rt), TICK_SECONDS, "sync scheduler tick")


def wake() -> None:
    """New callback events are stored: process them now rather than at the next poll."""
    _wake.set()


async def process_callbacks_once(client: DingTalkClient) -> int:
    """Apply pending events of every org, one bounded round per org in turn, taking each org's claim per round so
    that a sync run or another org never waits behind a big event."""
    done = 0
    org_ids = set(
        await CallbackEvent.filter(processed_at__isnull=True, attempts__lt=callbacks.MAX_ATTEMPTS)
        .distinct()
        .values_list("org_id", flat=True)
    )
    while org_ids:
        for org_id in sorted(org_ids):
            tried = 0
            if not turns.wanted(org_id):
                # The round mark covers claiming and releasing too, so a run waiting for it finds the org free.
                async with turns.processor_round(org_id):
                    try:
                        await runner.claim(org_id)
                    except runner.SyncBusy:
                        pass  # the running sync applies them, or the next poll does
                    else:
                        try:
                            org = await Org.get(id=org_id)
                            tried, processed = await callbacks.process_round(client, org)
                            done += processed
                        except Exception:
                            log.exception("callback processing of org %s failed", org_id)
                            tried = 0
                        finally:
                            await runner.unclaim(org_id)
            if not tried:
                org_ids.discard(org_id)
            await asyncio.sleep(0)
    return done


async def prepare_callbacks(rt: runtime.Runtime) -> None:
    global _wake
    _wake = asyncio.Event()  # bound to this loop (tests start the app on fresh loops)


async def callback_loop(rt: runtime.Runtime) -> None:
    while True:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(_wake.wait(), timeout=CALLBACK_POLL_SECONDS)
        _wake.clear()
        try:
            await process_callbacks_once(rt.dingtalk)
        except Exception:
            log.exception("callback processor failed")
