"""同步设置: the org's sync schedule, delete threshold and source system; 检测连接, 立即同步, 清空同步时间戳."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import aiohttp

from app import runtime
from app.core import net_guard
from app.models.orgs import Org
from app.models.sync import RunTrigger, SyncSettings
from app.services.errors import ValidationFailed
from app.services.permissions import Actor, Perm, authorize
from app.services.permissions import masked as mask  # last four for org admins, "已设置" for sub-admins
from app.services.write import writer
from app.sync import runner, scheduler, sources

SOURCE_TYPES = tuple(sources.ADAPTERS)


@dataclass
class SettingsView:
    cron: str
    next_runs: list[datetime]
    delete_threshold: int
    source_enabled: bool
    reconcile_days: int
    source_drop_guard: int
    source_type: str
    source_name: str
    source_url: str
    source_user: str
    source_password_masked: str
    has_password: bool
    cursors: dict[str, str]
    running: bool


@dataclass
class SettingsInput:
    cron: str
    delete_threshold: int | float | str
    source_enabled: bool
    source_type: str = "EKP"
    source_name: str = ""
    source_url: str = ""
    source_user: str = ""
    source_password: str | None = None  # None = keep the stored one
    reconcile_days: int | float | str | None = None  # None = keep the stored value
    source_drop_guard: int | float | str | None = None


async def _settings(org_id: int) -> SyncSettings:
    return await runner.settings_of(org_id)


async def _org(org_id: int) -> Org:
    return await Org.get(id=org_id)


def _view(s: SyncSettings, org_id: int) -> SettingsView:
    cron = s.cron or scheduler.DEFAULT_CRON
    upcoming = scheduler.next_runs(cron) if scheduler.validate_cron(cron) is None else []
    return SettingsView(
        cron=cron,
        next_runs=upcoming,
        delete_threshold=s.delete_threshold,
        source_enabled=s.source_enabled,
        reconcile_days=s.reconcile_days,
        source_drop_guard=s.source_drop_guard,
        source_type=s.source_type or "EKP",
        source_name=s.source_name,
        source_url=s.source_url,
        source_user=s.source_user,
        source_password_masked=mask(s.source_password) if s.source_password else "",
        has_password=bool(s.source_password),
        cursors={str(k): str(v) for k, v in (s.cursors or {}).items() if isinstance(v, str) and k != runner.FULL_MARK},
        running=runner.is_running(org_id),
    )


async def get_settings(actor: Actor, org_id: int) -> SettingsView:
    await authorize(actor, Perm.SYNC_MANAGE, org_id)
    return _view(await _settings(org_id), org_id)


def preview_cron(expression: str) -> list[datetime]:
    """The next five run times of an expression, for the form; raises ValidationFailed when it is invalid."""
    problem = scheduler.validate_cron(expression)
    if problem:
        raise ValidationFailed(problem, field="cron")
    return scheduler.next_runs(expression)


def whole_number(value: object, field: str, message: str, low: int, high: int) -> int:
    """A whole number from a form: number inputs yield floats (10.0), text may carry a % sign."""
    text = str(value if value is not None else "").strip().rstrip("%").strip()
    try:
        number = float(text)
    except ValueError:
        raise ValidationFailed(message, field=field) from None
    if not number.is_integer() or not low <= number <= high:
        raise ValidationFailed(message, field=field)
    return int(number)


def _validate(data: SettingsInput) -> dict[str, object]:
    problem = scheduler.validate_cron(data.cron)
    if problem:
        raise ValidationFailed(problem, field="cron")
    threshold = whole_number(
        data.delete_threshold, "delete_threshold", "删除记录阈值应为0到100之间的整数（100表示不限制）", 0, 100
    )
    values: dict[str, object] = {
        "cron": " ".join(data.cron.split()),
        "delete_threshold": threshold,
        "source_enabled": bool(data.source_enabled),
    }
    if data.reconcile_days is not None:
        values["reconcile_days"] = whole_number(
            data.reconcile_days, "reconcile_days", "全量核对周期应为0到365之间的整数天（0表示不定期核对）", 0, 365
        )
    if data.source_drop_guard is not None:
        values["source_drop_guard"] = whole_number(
            data.source_drop_guard, "source_drop_guard", "源数据保护阈值应为0到100之间的整数（100表示关闭）", 0, 100
        )
    if data.source_enabled:
        if data.source_type not in SOURCE_TYPES:
            raise ValidationFailed("目前只能选择源系统类型为 EKP", field="source_type")
        if not data.source_name.strip():
            raise ValidationFailed("请填写本系统名称", field="source_name")
        url = data.source_url.strip().rstrip("/")
        if not url.startswith(("http://", "https://")) or len(url) < 10:
            raise ValidationFailed("请填写以 http:// 或 https:// 开头的同步地址", field="source_url")
        values.update(
            source_type=data.source_type,
            source_name=data.source_name.strip()[:64],
            source_url=url[:255],
            source_user=data.source_user.strip()[:64],
        )
        if data.source_password is not None:
            values["source_password"] = data.source_password
    return values


async def update_settings(actor: Actor, org_id: int, data: SettingsInput) -> SettingsView:
    w = await writer(actor, Perm.SYNC_MANAGE, org_id=org_id, kind="sync_settings")
    values = _validate(data)
    if values.get("source_url"):
        try:  # an internal address is refused when saved, not only when the sync connects (app/core/net_guard.py)
            await net_guard.check_url(str(values["source_url"]), resolve=False)
        except net_guard.UnsafeAddress as exc:
            raise ValidationFailed(f"同步地址{exc.message}", field="source_url") from exc
    w.org_name = (await _org(org_id)).name
    async with w:
        s = await _settings(org_id)
        before = {k: getattr(s, k) for k in values}
        s.update_from_dict(values)
        await s.save()
        await w.audit(
            "sync.settings.update",
            object_id=s.id,
            object_name="同步设置",
            before=before,
            after=values,
        )
    return _view(s, org_id)


async def check_connection(
    actor: Actor, org_id: int, data: SettingsInput, *, http: aiohttp.ClientSession
) -> tuple[bool, str]:
    """检测连接 with what is in the form (the stored password when the field was left empty)."""
    await authorize(actor, Perm.SYNC_MANAGE, org_id)
    url = data.source_url.strip().rstrip("/")
    if not url.startswith(("http://", "https://")):
        raise ValidationFailed("请填写以 http:// 或 https:// 开头的同步地址", field="source_url")
    password = data.source_password
    if password is None:
        password = (await _settings(org_id)).source_password
    config = sources.SourceConfig(url=url, user=data.source_user.strip(), password=password, timeout_seconds=15)
    try:
        source = sources.make(data.source_type, http, config)
    except sources.SourceError as exc:
        raise ValidationFailed(str(exc), field="source_type") from None
    result = await source.check()
    return result.ok, result.message


async def run_now(actor: Actor, org_id: int, *, rt: runtime.Runtime) -> int:
    """立即同步: starts a run in the background and returns its id; 同步正在进行中 when one is running."""
    w = await writer(actor, Perm.SYNC_MANAGE, org_id=org_id, kind="sync_run")
    try:
        run = await runner.start(org_id, RunTrigger.MANUAL, rt=rt)
    except runner.SyncBusy:
        raise ValidationFailed(runner.BUSY_MESSAGE) from None
    w.org_name = (await _org(org_id)).name
    async with w:  # the run itself is the sync engine's; the service records who started it
        await w.audit("sync.run", object_id=run.id, detail="立即同步")
    return run.id


async def clear_cursors(actor: Actor, org_id: int) -> None:
    """清空同步时间戳: the next run reads the whole source (全量), as a diff that keeps every DingTalk id."""
    w = await writer(actor, Perm.SYNC_MANAGE, org_id=org_id, kind="sync_settings")
    w.org_name = (await _org(org_id)).name
    async with w:
        s = await _settings(org_id)
        before = dict(s.cursors or {})
        s.cursors = {runner.FULL_MARK: "1"}
        await s.save(update_fields=["cursors", "updated_at"])
        await w.audit(
            "sync.cursors.clear",
            object_id=s.id,
            object_name="同步时间戳",
            before=before,
            after={},
            detail="清空同步时间戳，下次同步为全量同步",
        )
