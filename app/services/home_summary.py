"""Numbers for the home page: what to do next and how each organisation is doing."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from tortoise.functions import Count

from app.models.contacts import Department, Person
from app.models.orgs import CallbackStatus, Company, Org
from app.models.sync import RunResult, SyncRun
from app.services import system_init
from app.services.permissions import Actor

RESULT_LABELS = {
    RunResult.RUNNING: "进行中",
    RunResult.SUCCESS: "成功",
    RunResult.WARNING: "警告",
    RunResult.FAILED: "失败",
}
CALLBACK_LABELS = {CallbackStatus.SUCCESS: "成功", CallbackStatus.FAILED: "失败", CallbackStatus.NONE: "未注册"}


@dataclass
class OrgStatus:
    id: int
    name: str
    is_main: bool
    callback: str
    departments: int
    people: int
    last_sync_at: datetime | None
    last_sync_result: str
    last_sync_summary: str


@dataclass
class HomeSummary:
    initialised: bool
    has_company: bool
    company_name: str = ""
    orgs: list[OrgStatus] = field(default_factory=list)


async def summary(actor: Actor) -> HomeSummary:
    company = await Company.all().order_by("id").first()
    result = HomeSummary(
        initialised=await system_init.is_initialised(),
        has_company=company is not None,
        company_name=company.name if company else "",
    )
    if actor.is_super:
        org_ids = list(await Org.all().values_list("id", flat=True))
    else:
        org_ids = [actor.current_org_id] if actor.current_org_id else []
        if actor.dept_scope(actor.current_org_id or 0) is not None:
            return result  # department admins work in 通讯录; org-wide numbers are not theirs to see
    if not org_ids:
        return result
    depts = dict(
        await Department.filter(org_id__in=org_ids, is_deleted=False)
        .group_by("org_id")
        .annotate(n=Count("id"))
        .values_list("org_id", "n")
    )
    people = dict(
        await Person.filter(org_id__in=org_ids, is_active=True)
        .group_by("org_id")
        .annotate(n=Count("id"))
        .values_list("org_id", "n")
    )
    for org in await Org.filter(id__in=org_ids).order_by("-is_main", "id"):
        last = await SyncRun.filter(org_id=org.id).order_by("-id").first()
        result.orgs.append(
            OrgStatus(
                id=org.id,
                name=org.name,
                is_main=org.is_main,
                callback=CALLBACK_LABELS.get(org.callback_status, str(org.callback_status)),
                departments=depts.get(org.id, 0),
                people=people.get(org.id, 0),
                last_sync_at=last.started_at if last else None,
                last_sync_result=RESULT_LABELS.get(last.result, "") if last else "尚未同步",
                last_sync_summary=last.summary if last else "",
            )
        )
    return result
