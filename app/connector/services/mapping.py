"""4.2 通讯录映射表: the EKP id <-> DingTalk id tables, filled from the console's mapping feed.

Incremental pulls start at the stored cursors (the largest ``time`` seen per kind, as EKP keeps ``ldingSynTime``);
a full reload pulls from 0 and drops rows the console no longer lists. Tombstones (``dingIsDel``) remove rows.
Names and unionIds are not in the feed: they are read from DingTalk (v2/user/get, v2/department/get) after the
pull, because the pages show names and the v1.0 todo API addresses people by unionId.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from tortoise.expressions import Q

from app.connector import runtime
from app.connector.models import Binding, DeptMapping, PersonMapping
from app.connector.services import audit, console_api, interface_log
from app.connector.services import binding as binding_service
from app.connector.services.errors import ConnectorError
from app.dingtalk.client import DingTalkClient
from app.dingtalk.errors import DingTalkAPIError

log = logging.getLogger(__name__)

ENRICH_CONCURRENCY = 4
_lock = asyncio.Lock()


@dataclass
class PullResult:
    depts: int = 0
    persons: int = 0
    removed: int = 0
    illegal: int = 0

    def summary(self) -> str:
        text = f"部门映射 {self.depts} 条，人员映射 {self.persons} 条，删除 {self.removed} 条"
        return text + (f"，非法数据 {self.illegal} 条" if self.illegal else "")


def _accepted(items: list[dict[str, Any]], result: PullResult) -> tuple[list[tuple[dict[str, Any], str, str]], int]:
    """(item, dingId, businessId) of the usable items and the newest ``time``; the rest count as 非法数据 (5.1)."""
    cursor = 0
    usable = []
    for item in items:
        ding_id, business_id = str(item.get("dingId") or ""), str(item.get("businessId") or "")
        cursor = max(cursor, int(item.get("time") or 0))
        if ding_id and business_id:
            usable.append((item, ding_id, business_id))
        else:
            result.illegal += 1
    return usable, cursor


async def _apply_dept(items: list[dict[str, Any]], full: bool, result: PullResult) -> int:
    usable, cursor = _accepted(items, result)
    keep: set[str] = set()
    for item, ding_id, business_id in usable:
        if item.get("dingIsDel"):
            result.removed += await DeptMapping.filter(ekp_id=business_id).delete()
            continue
        keep.add(business_id)
        row = await DeptMapping.get_or_none(ekp_id=business_id)
        if row is None:
            await DeptMapping.create(ekp_id=business_id, ding_id=ding_id, feed_time=int(item.get("time") or 0))
        elif row.ding_id != ding_id:
            row.ding_id, row.name, row.ding_status = ding_id, "", ""
            await row.save()
        result.depts += 1
    if full:
        result.removed += await DeptMapping.exclude(ekp_id__in=list(keep)).delete()
    return cursor


async def _apply_person(items: list[dict[str, Any]], full: bool, result: PullResult) -> int:
    usable, cursor = _accepted(items, result)
    keep: set[str] = set()
    for item, ding_id, business_id in usable:
        if item.get("dingIsDel"):
            # By EKP id only: a re-keyed person's new row (same DingTalk id) must survive the old row's tombstone.
            result.removed += await PersonMapping.filter(ekp_id=business_id, ding_userid=ding_id).delete()
            continue
        keep.add(business_id)
        login_name = str(item.get("loginName") or "")
        mobile = str(item.get("mobileNo") or "")
        row = await PersonMapping.get_or_none(ekp_id=business_id)
        if row is None:
            # One DingTalk account maps to one EKP person: a re-keyed person replaces its old row.
            await PersonMapping.filter(ding_userid=ding_id).delete()
            await PersonMapping.create(
                ekp_id=business_id,
                ding_userid=ding_id,
                login_name=login_name,
                mobile=mobile,
                feed_time=int(item.get("time") or 0),
            )
        else:
            if row.ding_userid != ding_id:
                row.union_id, row.name, row.ding_status = "", "", ""
            row.ding_userid, row.login_name, row.mobile = ding_id, login_name, mobile
            row.feed_time = int(item.get("time") or 0)
            await row.save()
        result.persons += 1
    if full:
        result.removed += await PersonMapping.exclude(ekp_id__in=list(keep)).delete()
    return cursor


async def pull(*, rt: runtime.ConnectorRuntime, full: bool = False, actor: int | None = None) -> PullResult:
    """更新通讯录: one incremental (or full) pull of both feeds; cursors advance only after applying."""
    async with _lock:
        binding = await binding_service.require()
        result = PullResult()
        try:
            for kind in ("dept", "person"):
                cursor = 0 if full else int(getattr(binding, f"{kind}_cursor"))
                request = {"url": f"{binding.console_url}{console_api.FEED}/{kind}?timestamp={cursor}", "body": None}
                name = "获取部门映射" if kind == "dept" else "获取人员映射"
                try:
                    items = await console_api.feed(
                        rt.http, binding.console_url, binding.auth_account, binding.auth_password, kind, cursor
                    )
                except ConnectorError as exc:
                    await interface_log.record("组织架构", name, request, {"error": exc.message}, ok=False)
                    raise
                await interface_log.record("组织架构", name, request, {"errcode": 0, "count": len(items)})
                apply = _apply_dept if kind == "dept" else _apply_person
                newest = await apply(items, full, result)
                if newest:
                    setattr(
                        binding, f"{kind}_cursor", max(newest, 0 if full else int(getattr(binding, f"{kind}_cursor")))
                    )
        except ConnectorError as exc:
            binding.last_sync_at = datetime.now(UTC)
            binding.last_sync_result = f"失败：{exc.message}"[:500]
            await binding.save(update_fields=["last_sync_at", "last_sync_result"])
            raise
        binding.last_sync_at = datetime.now(UTC)
        binding.last_sync_result = ("全量" if full else "增量") + "更新成功：" + result.summary()
        await binding.save()
        if actor:
            await audit.record(actor, "更新通讯录", {"full": full, "result": result.summary()})
    await enrich(binding, rt.dingtalk)
    return result


async def enrich(binding: Binding, client: DingTalkClient, limit: int = 2000) -> int:
    """Read names (and unionIds) from DingTalk for rows that have none yet."""
    app = binding_service.dingtalk_app(binding)
    gate = asyncio.Semaphore(ENRICH_CONCURRENCY)
    people = await PersonMapping.filter(ding_status="").limit(limit)
    depts = await DeptMapping.filter(ding_status="").limit(limit)

    async def person(row: PersonMapping) -> None:
        async with gate:
            try:
                user = await interface_log.call(
                    "组织架构",
                    "获取人员详情",
                    {"userid": row.ding_userid},
                    client.contacts.get_user(app, row.ding_userid),
                )
            except DingTalkAPIError as exc:
                row.ding_status = "missing" if exc.errcode in (60121, 33012, 40103) else ""
                if row.ding_status:
                    await row.save(update_fields=["ding_status"])
                return
            except Exception:
                return
            row.name, row.union_id, row.ding_status = user.name or "", user.unionid or "", "ok"
            await row.save(update_fields=["name", "union_id", "ding_status"])

    async def dept(row: DeptMapping) -> None:
        async with gate:
            if not row.ding_id.isdigit():
                return
            try:
                found = await interface_log.call(
                    "组织架构",
                    "获取部门详情",
                    {"dept_id": row.ding_id},
                    client.contacts.get_department(app, int(row.ding_id)),
                )
            except DingTalkAPIError as exc:
                row.ding_status = "missing" if exc.errcode in (60003, 40009) else ""
                if row.ding_status:
                    await row.save(update_fields=["ding_status"])
                return
            except Exception:
                return
            row.name, row.ding_status = found.name or "", "ok"
            await row.save(update_fields=["name", "ding_status"])

    await asyncio.gather(*(person(r) for r in people), *(dept(r) for r in depts))
    return len(people) + len(depts)


async def union_id_of(row: PersonMapping, client: DingTalkClient) -> str:
    """The person's unionId, read from DingTalk when the mapping has none yet (the v1.0 todo needs it)."""
    if row.union_id:
        return row.union_id
    binding = await binding_service.require()
    user = await interface_log.call(
        "组织架构",
        "获取人员详情",
        {"userid": row.ding_userid},
        client.contacts.get_user(binding_service.dingtalk_app(binding), row.ding_userid),
    )
    row.union_id, row.name, row.ding_status = user.unionid or "", row.name or user.name or "", "ok"
    await row.save(update_fields=["union_id", "name", "ding_status"])
    return row.union_id


# -- what the pages show -------------------------------------------------------------------------------------------


async def dept_page(keyword: str, offset: int, limit: int) -> tuple[list[DeptMapping], int]:
    query = DeptMapping.all()
    if keyword:
        query = query.filter(Q(name__icontains=keyword) | Q(ekp_id__icontains=keyword) | Q(ding_id=keyword))
    return await query.order_by("id").offset(offset).limit(limit), await query.count()


async def person_page(keyword: str, offset: int, limit: int) -> tuple[list[PersonMapping], int]:
    query = PersonMapping.all()
    if keyword:
        query = query.filter(
            Q(name__icontains=keyword) | Q(login_name__icontains=keyword) | Q(ding_userid=keyword) | Q(ekp_id=keyword)
        )
    return await query.order_by("id").offset(offset).limit(limit), await query.count()


async def counts() -> dict[str, int]:
    return {
        "depts": await DeptMapping.all().count(),
        "persons": await PersonMapping.all().count(),
        "depts_unmapped": await DeptMapping.filter(Q(ding_id="") | Q(ding_status="missing")).count(),
        "persons_unmapped": await PersonMapping.filter(Q(ding_userid="") | Q(ding_status="missing")).count(),
    }
