"""System parameters (系统设置): the values system initialisation seeds, editable by the super admin."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

from app import runtime
from app.core import localtime
from app.models.system import SystemParam
from app.services.errors import ValidationFailed
from app.services.permissions import Actor, Perm, authorize
from app.services.write import Write, writer


@dataclass
class Param:
    key: str
    label: str
    value: Any


def _check(key: str, value: Any) -> Any:
    if key == "server_dns":
        text = str(value or "").strip().rstrip("/")
        parsed = urlparse(text)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise ValidationFailed("请填写完整的外网地址，例如 https://landing.example.com", field=key)
        return text
    if key in ("password_min_length", "login_max_failures", "login_lock_minutes", "sync_log_retention_days"):
        try:
            number = int(value)
        except (TypeError, ValueError) as exc:
            raise ValidationFailed("请填写整数", field=key) from exc
        if not 1 <= number <= 3650:
            raise ValidationFailed("取值范围 1 - 3650", field=key)
        return number
    text = str(value or "").strip()
    if not text:
        raise ValidationFailed("不能为空", field=key)
    return text


async def get_value(key: str, default: Any = None) -> Any:
    row = await SystemParam.get_or_none(key=key)
    if row is None or not isinstance(row.value, dict):
        return default
    return row.value.get("value", default)


async def put_value(w: Write, key: str, label: str, value: Any) -> None:
    """Store one parameter inside the caller's open write unit (which audits it), creating its row the first time."""
    row = await SystemParam.get_or_none(key=key)
    if row is None:
        await SystemParam.create(key=key, label=label, value={"value": value})
    else:
        row.value = {"value": value}
        await row.save(update_fields=["value", "updated_at"])


async def list_params(actor: Actor) -> list[Param]:
    await authorize(actor, Perm.SYSTEM_SETTINGS)
    rows = await SystemParam.all().order_by("id")
    return [
        Param(r.key, r.label or r.key, (r.value or {}).get("value"))
        for r in rows
        if not isinstance((r.value or {}).get("value"), dict) and r.key not in SEPARATE_KEYS
    ]


async def update(actor: Actor, values: dict[str, Any]) -> int:
    """Validate everything first, then save: one bad field changes nothing."""
    w = await writer(actor, Perm.SYSTEM_SETTINGS, kind="system_param")
    rows = {r.key: r for r in await SystemParam.filter(key__in=list(values))}
    checked = {key: _check(key, value) for key, value in values.items() if key in rows}
    changed = 0
    async with w:
        for key, value in checked.items():
            row = rows[key]
            before = (row.value or {}).get("value")
            if before == value:
                continue
            row.value = {"value": value}
            await row.save(update_fields=["value", "updated_at"])
            await w.audit(
                "system.param", object_id=key, object_name=row.label, before={"value": before}, after={"value": value}
            )
            changed += 1
    return changed


# -- 时区 (display time zone) ------------------------------------------------------------------------------------
# Kept apart from the generic parameters above: it has its own picker on the page, a default that exists before
# system initialisation, and a process-wide cache (``app.core.localtime``) every page and download reads.

TIME_ZONE_KEY = "time_zone"
TIME_ZONE_LABEL = "时区"
SEPARATE_KEYS = frozenset({TIME_ZONE_KEY})
TIME_ZONE_REFRESH_SECONDS = 60.0


async def load_time_zone() -> str:
    """Read the saved zone into the process-wide cache; the default when none is saved."""
    name = str(await get_value(TIME_ZONE_KEY, localtime.DEFAULT_ZONE) or localtime.DEFAULT_ZONE)
    localtime.set_zone(name)
    return localtime.zone_name()


async def get_time_zone(actor: Actor) -> str:
    await authorize(actor, Perm.SYSTEM_SETTINGS)
    return await load_time_zone()


async def set_time_zone(actor: Actor, name: str) -> bool:
    """Save the zone every time is shown in; True when it changed. A bad name changes nothing."""
    w = await writer(actor, Perm.SYSTEM_SETTINGS, kind="system_param")
    name = (name or "").strip()
    error = localtime.zone_error(name)
    if error:
        raise ValidationFailed(error, field=TIME_ZONE_KEY)
    row = await SystemParam.get_or_none(key=TIME_ZONE_KEY)
    before = (row.value or {}).get("value") if row is not None else localtime.DEFAULT_ZONE
    if before == name:
        localtime.set_zone(name)
        return False
    async with w:
        await put_value(w, TIME_ZONE_KEY, TIME_ZONE_LABEL, name)
        await w.audit(
            "system.param",
            object_id=TIME_ZONE_KEY,
            object_name=TIME_ZONE_LABEL,
            before={"value": before},
            after={"value": name},
        )
        w.after_commit(lambda: localtime.set_zone(name))  # the process-wide cache every page reads
    return True


async def prepare_time_zone(rt: runtime.Runtime) -> None:
    """Load the zone before the console serves its first page."""
    await load_time_zone()


async def follow_time_zone(rt: runtime.Runtime) -> None:
    """The worker: re-read the zone now and then, so a change made on another replica is followed."""
    while True:
        await asyncio.sleep(TIME_ZONE_REFRESH_SECONDS)
        try:
            await load_time_zone()
        except Exception:  # the database may be briefly away; keep the zone we have
            logging.getLogger(__name__).warning("time zone could not be re-read", exc_info=True)
