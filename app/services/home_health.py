"""Health at a glance for the home page: per org, what ran, what is stuck, and what to open to fix it.

Everything an admin would otherwise piece together from 同步日志, the callback inbox, the notification outbox and
``/metrics``: the runs of the last 30 days (result, duration, objects changed), callback health, DingTalk API use
against the QPS limit and the monthly quota, changes not yet in DingTalk, a run the delete threshold stopped, and
access-system notifications that keep failing. Times stay UTC here; the page formats them.

DingTalk API use and refused callbacks come from this process's counters (they are not stored), so they start at
zero when the process starts; the page says so.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from cronsim import CronSim, CronSimError

from app.core import api_usage, localtime
from app.core import metrics as core_metrics
from app.dingtalk.client import DingTalkClient
from app.models.access import Notification
from app.models.contacts import Department, Person
from app.models.orgs import Org
from app.models.sync import CallbackEvent, RunResult, SyncRun, SyncSettings
from app.services.permissions import Actor, Perm
from app.sync.callbacks import MAX_ATTEMPTS
from app.sync.scheduler import DEFAULT_CRON

WINDOW_DAYS = 30
CALLBACK_DAYS = 7
LAG_SAMPLE = 2000
CHANGE_KEYS = ("added", "updated", "deleted", "disabled")


@dataclass
class RunPoint:
    id: int
    started_at: datetime
    result: RunResult
    duration_s: float
    changed: int
    summary: str


@dataclass
class CallbackHealth:
    received: int = 0
    pending: int = 0
    failed: int = 0
    lag_avg_s: float | None = None
    lag_max_s: float | None = None
    refused_by_reason: dict[str, int] = field(default_factory=dict)  # process-wide: a refusal may name no org

    @property
    def refused(self) -> int:
        return sum(self.refused_by_reason.values())


@dataclass
class ApiUse:
    api: str
    calls: int
    peak_per_second: int
    errors: int
    throttles: int
    metered: bool


@dataclass
class Quota:
    used: int
    limit: int
    forecast: int
    basis: str  # how the forecast was made, in the page's words


@dataclass
class OrgHealth:
    org_id: int
    name: str
    runs: list[RunPoint]
    callbacks: CallbackHealth
    apis: list[ApiUse]
    qps_limit: float
    quota: Quota
    pending_people: int
    pending_departments: int
    blocked_run_id: int | None
    failing_notifications: int
    can_manage_sync: bool
    can_view_logs: bool
    can_manage_access: bool
    counting_since: datetime


def visible_org_ids(actor: Actor, all_ids: list[int]) -> list[int]:
    """Super admin: every org; org and sub admins: their current org; department admins: none."""
    if actor.is_super:
        return all_ids
    org_id = actor.current_org_id
    if not org_id or actor.dept_scope(org_id) is not None or not actor.can(Perm.SYNC_LOG_VIEW):
        return []
    return [org_id]


async def health(actor: Actor, client: DingTalkClient, now: datetime | None = None) -> list[OrgHealth]:
    now = now or datetime.now(UTC)
    ids = visible_org_ids(actor, list(await Org.all().values_list("id", flat=True)))
    orgs = await Org.filter(id__in=ids).order_by("-is_main", "id")
    qps_limit = float(client.transport.qps)
    return [await _org_health(actor, org, now, qps_limit) for org in orgs]


async def _org_health(actor: Actor, org: Org, now: datetime, qps_limit: float) -> OrgHealth:
    settings = await SyncSettings.get_or_none(org_id=org.id)
    last = await SyncRun.filter(org_id=org.id).order_by("-id").first()
    blocked = (
        last.id
        if last is not None and last.threshold_blocked and (settings is None or settings.approved_run_id != last.id)
        else None
    )
    return OrgHealth(
        org_id=org.id,
        name=org.name,
        runs=await _runs(org.id, now - timedelta(days=WINDOW_DAYS)),
        callbacks=await _callbacks(org.id, now - timedelta(days=CALLBACK_DAYS)),
        apis=_apis(org.appkey),
        qps_limit=qps_limit,
        quota=_quota(org.id, org.appkey, (settings.cron if settings else "") or DEFAULT_CRON, now),
        pending_people=await Person.filter(org_id=org.id, needs_push=True).count(),
        pending_departments=await Department.filter(org_id=org.id, needs_push=True).count(),
        blocked_run_id=blocked,
        failing_notifications=await Notification.filter(system__org_id=org.id, delivered_at=None)
        .exclude(last_error="")
        .count(),
        can_manage_sync=actor.can(Perm.SYNC_MANAGE, org.id),
        can_view_logs=actor.can(Perm.SYNC_LOG_VIEW, org.id),
        can_manage_access=actor.can(Perm.ACCESS_MANAGE, org.id),
        counting_since=api_usage.USAGE.started,
    )


async def _runs(org_id: int, since: datetime) -> list[RunPoint]:
    rows = await SyncRun.filter(org_id=org_id, started_at__gte=since).order_by("started_at").limit(5000)
    points = []
    for run in rows:
        end = run.ended_at or datetime.now(UTC)
        changed = 0
        for objects in (run.counters or {}).values():
            for numbers in (objects or {}).values() if isinstance(objects, dict) else ():
                if isinstance(numbers, dict):
                    changed += sum(int(numbers.get(k) or 0) for k in CHANGE_KEYS)
        points.append(
            RunPoint(
                run.id,
                run.started_at,
                run.result,
                max(0.0, (end - run.started_at).total_seconds()),
                changed,
                run.summary or run.error,
            )
        )
    return points


async def _callbacks(org_id: int, since: datetime) -> CallbackHealth:
    events = CallbackEvent.filter(org_id=org_id)
    result = CallbackHealth(
        received=await events.filter(received_at__gte=since).count(),
        pending=await events.filter(processed_at__isnull=True, attempts__lt=MAX_ATTEMPTS).count(),
        failed=await events.filter(processed_at__isnull=True, attempts__gte=MAX_ATTEMPTS).count(),
        refused_by_reason=core_metrics.callbacks_refused(),
    )
    pairs = (
        await events.filter(received_at__gte=since, processed_at__isnull=False)
        .order_by("-id")
        .limit(LAG_SAMPLE)
        .values_list("received_at", "processed_at")
    )
    lags = [max(0.0, (done - got).total_seconds()) for got, done in pairs]
    if lags:
        result.lag_avg_s, result.lag_max_s = sum(lags) / len(lags), max(lags)
    return result


def _apis(appkey: str) -> list[ApiUse]:
    usage = api_usage.USAGE.of(appkey)
    rows = [
        ApiUse(api, t.calls, t.peak_per_second, t.errors, t.throttles, api_usage.is_metered(api))
        for api, t in usage.apis.items()
    ]
    return sorted(rows, key=lambda r: (-r.calls, r.api))


def fires_until(cron: str, start: datetime, end: datetime) -> int:
    """How many times ``cron`` fires in (start, end], in the configured zone's wall-clock time."""
    zone = localtime.zone()
    wall_start = start.astimezone(zone).replace(tzinfo=None, second=0, microsecond=0)
    wall_end = end.astimezone(zone).replace(tzinfo=None)
    try:
        it = CronSim(cron.strip(), wall_start)
    except (CronSimError, ValueError):
        return 0
    count = 0
    for fire in it:
        if fire > wall_end or count > 50_000:
            break
        count += 1
    return count


def _month_end(now: datetime) -> datetime:
    """The start of next month in the configured zone (DingTalk counts calendar months in China time)."""
    first = localtime.local(now).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    return (first + timedelta(days=32)).replace(day=1)


def _quota(org_id: int, appkey: str, cron: str, now: datetime) -> Quota:
    """Metered calls this month and where the current cron takes them by the month's end."""
    used = api_usage.USAGE.metered_this_month(appkey, now)
    metered_total = sum(t.calls for api, t in api_usage.USAGE.of(appkey).apis.items() if api_usage.is_metered(api))
    runs = core_metrics.sync_runs_of(org_id)
    fires_left = fires_until(cron, now, _month_end(now))
    if runs:
        per_run = metered_total / runs
        forecast = used + round(per_run * fires_left)
        basis = f"按当前 Cron 本月还将执行 {fires_left} 次，平均每次 {per_run:.1f} 次计量调用"
    else:
        elapsed = max(60.0, (now - api_usage.USAGE.started).total_seconds())
        left = max(0.0, (_month_end(now) - now).total_seconds())
        forecast = used + round(metered_total / elapsed * left)
        basis = f"进程启动以来尚未同步，按启动以来的调用速度估算；当前 Cron 本月还将执行 {fires_left} 次"
    return Quota(used=used, limit=api_usage.MONTHLY_QUOTA, forecast=forecast, basis=basis)
