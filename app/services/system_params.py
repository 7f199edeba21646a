"""System parameters (系统设置): the values system initialisation seeds, editable by the super admin."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

from app.models.system import SystemParam
from app.services import audit
from app.services.errors import ValidationFailed
from app.services.permissions import Actor, Perm, authorize


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


async def list_params(actor: Actor) -> list[Param]:
    await authorize(actor, Perm.SYSTEM_SETTINGS)
    rows = await SystemParam.all().order_by("id")
    return [
        Param(r.key, r.label or r.key, (r.value or {}).get("value"))
        for r in rows
        if not isinstance((r.value or {}).get("value"), dict)
    ]


async def update(actor: Actor, values: dict[str, Any]) -> int:
    """Validate everything first, then save: one bad field changes nothing."""
    await authorize(actor, Perm.SYSTEM_SETTINGS)
    rows = {r.key: r for r in await SystemParam.filter(key__in=list(values))}
    checked = {key: _check(key, value) for key, value in values.items() if key in rows}
    changed = 0
    for key, value in checked.items():
        row = rows[key]
        before = (row.value or {}).get("value")
        if before == value:
            continue
        row.value = {"value": value}
        await row.save(update_fields=["value", "updated_at"])
        await audit.record(
            actor,
            "system.param",
            object_type="system_param",
            object_id=key,
            object_name=row.label,
            before={"value": before},
            after={"value": value},
        )
        changed += 1
    return changed
