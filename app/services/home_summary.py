"""Numbers for the home page."""

from __future__ import annotations

from dataclasses import dataclass, field

from app.models.contacts import Department, Person
from app.models.orgs import Company, Org
from app.services import system_init
from app.services.permissions import Actor


@dataclass
class HomeSummary:
    initialised: bool
    has_company: bool
    tiles: list[tuple[str, object]] = field(default_factory=list)


async def summary(actor: Actor) -> HomeSummary:
    result = HomeSummary(initialised=await system_init.is_initialised(), has_company=await Company.exists())
    if actor.is_super:
        result.tiles.append(("组织数", await Org.all().count()))
    org_id = actor.current_org_id
    if org_id is not None:
        result.tiles.append(("部门数", await Department.filter(org_id=org_id, is_deleted=False).count()))
        result.tiles.append(("人员数", await Person.filter(org_id=org_id, is_active=True).count()))
    return result
