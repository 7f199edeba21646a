"""System initialisation (guide 3.2.1): import the nine items a new installation needs, idempotently."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from typing import Any

from tortoise.models import Model

from app.models.system import (
    DictEntry,
    InitRun,
    MenuItem,
    PermissionDef,
    RoleDef,
    RolePermission,
    ScheduledJob,
    SystemParam,
)
from app.services import catalog
from app.services.permissions import PERMISSION_NAMES, ROLE_LEVEL, ROLE_NAMES, ROLE_PERMISSIONS, Actor, Perm
from app.services.write import Write, write


@dataclass
class ItemResult:
    name: str
    created: int = 0
    updated: int = 0
    unchanged: int = 0

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated)

    @property
    def message(self) -> str:
        if not self.changed:
            return f"已是最新，无变化（{self.unchanged} 项）"
        parts = []
        if self.created:
            parts.append(f"新增 {self.created} 项")
        if self.updated:
            parts.append(f"更新 {self.updated} 项")
        return "，".join(parts)


async def _upsert(
    w: Write, model: type[Model], result: ItemResult, keys: dict[str, Any], values: dict[str, Any]
) -> None:
    row = await model.get_or_none(**keys)
    if row is None:
        await model.create(**keys, **values)
        result.created += 1
    elif any(getattr(row, k) != v for k, v in values.items()):
        await row.update_from_dict(values).save()
        result.updated += 1
    else:
        result.unchanged += 1


async def _roles(w: Write, r: ItemResult, _: str) -> None:
    for role, name in ROLE_NAMES.items():
        await _upsert(w, RoleDef, r, {"code": role.value}, {"name": name, "level": ROLE_LEVEL[role]})


async def _permissions(w: Write, r: ItemResult, _: str) -> None:
    for perm in Perm:
        name, group = PERMISSION_NAMES[perm]
        await _upsert(w, PermissionDef, r, {"code": perm.value}, {"name": name, "group": group})


async def _role_permissions(w: Write, r: ItemResult, _: str) -> None:
    for role, perms in ROLE_PERMISSIONS.items():
        for perm in sorted(perms):
            await _upsert(w, RolePermission, r, {"role_code": role.value, "permission_code": perm.value}, {})


async def _menus(w: Write, r: ItemResult, _: str) -> None:
    for m in catalog.MENUS:
        values = {
            "section": m.section,
            "label": m.label,
            "path": m.path,
            "permission_code": m.perm.value,
            "sort": m.sort,
        }
        await _upsert(w, MenuItem, r, {"code": m.code}, values)


async def _params(w: Write, r: ItemResult, public_base_url: str) -> None:
    for key, (label, value) in catalog.system_params(public_base_url).items():
        # Keep what an admin already changed: initialisation only fills in what is missing.
        if await SystemParam.exists(key=key):
            r.unchanged += 1
            continue
        await SystemParam.create(key=key, label=label, value={"value": value})
        r.created += 1


async def _param_once(w: Write, r: ItemResult, key: str, label: str, value: Any) -> None:
    if await SystemParam.exists(key=key):
        r.unchanged += 1
    else:
        await SystemParam.create(key=key, label=label, value={"value": value})
        r.created += 1


async def _sync_template(w: Write, r: ItemResult, _: str) -> None:
    await _param_once(w, r, "sync_defaults", "通讯录同步默认设置", catalog.SYNC_DEFAULTS)


async def _login_auth(w: Write, r: ItemResult, _: str) -> None:
    await _param_once(w, r, "login_auth", "登录认证设置", catalog.LOGIN_AUTH_DEFAULTS)


async def _jobs(w: Write, r: ItemResult, _: str) -> None:
    for code, name, cron in catalog.JOBS:
        if await ScheduledJob.exists(code=code):
            r.unchanged += 1
        else:
            await ScheduledJob.create(code=code, name=name, cron=cron)
            r.created += 1


async def _dictionaries(w: Write, r: ItemResult, _: str) -> None:
    for dict_type, entries in catalog.DICTIONARIES.items():
        for sort, (code, label) in enumerate(entries):
            await _upsert(w, DictEntry, r, {"dict_type": dict_type, "code": code}, {"label": label, "sort": sort})


ITEMS: list[tuple[str, Callable[[Write, ItemResult, str], Awaitable[None]]]] = [
    ("蓝钉默认角色", _roles),
    ("系统权限", _permissions),
    ("角色权限关系", _role_permissions),
    ("导航菜单", _menus),
    ("系统参数", _params),
    ("通讯录同步默认设置", _sync_template),
    ("登录认证默认设置", _login_auth),
    ("定时任务", _jobs),
    ("数据字典", _dictionaries),
]


async def is_initialised() -> bool:
    return await InitRun.exists()


async def run(actor: Actor, public_base_url: str) -> list[ItemResult]:
    results: list[ItemResult] = []
    async with write(actor, Perm.SYSTEM_INIT, kind="system") as w:
        for name, fn in ITEMS:
            result = ItemResult(name=name)
            await fn(w, result, public_base_url)
            results.append(result)
        await InitRun.create(account_login=actor.login, items=[asdict(r) for r in results])
        changed = sum(1 for r in results if r.changed)
        await w.audit(
            "system.init",
            object_name="系统初始化",
            detail=f"{changed} 项有变化: " + "; ".join(f"{r.name}: {r.message}" for r in results),
        )
    return results


async def last_run() -> InitRun | None:
    return await InitRun.all().order_by("-id").first()
