"""子管理员 (guide 3.3.3): chosen from the current org's contacts, initial password 123456, forced change.

A sub-admin holds every org-admin permission except editing the org and appointing sub-admins (ROLE_PERMISSIONS);
the services that do those two things require ORG_EDIT / SUBADMIN_MANAGE, so the limit holds beyond the menus.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.models.accounts import Account, Role, RoleGrant
from app.models.contacts import Person
from app.models.orgs import Org
from app.services import accounts
from app.services.errors import NotFound, ValidationFailed
from app.services.orgs import login_for
from app.services.permissions import Actor, Perm, authorize


@dataclass
class SubAdminRow:
    account_id: int
    login: str
    name: str
    dept: str
    state: str


def _org_id(actor: Actor) -> int:
    if actor.current_org_id is None:
        raise ValidationFailed("请先选择组织")
    return actor.current_org_id


async def list_sub_admins(actor: Actor) -> list[SubAdminRow]:
    org_id = _org_id(actor)
    await authorize(actor, Perm.SUBADMIN_MANAGE, org_id)
    grants = await RoleGrant.filter(org_id=org_id, role=Role.SUB_ADMIN).select_related("account", "person")
    people = {g.person_id for g in grants if g.person_id}
    depts = dict(
        await Person.filter(id__in=list(people)).select_related("main_dept").values_list("id", "main_dept__name")
    )
    rows = []
    for grant in sorted(grants, key=lambda g: g.id):
        account = grant.account
        state = "待修改初始密码" if account.must_change_password else ("已停用" if not account.is_active else "正常")
        rows.append(SubAdminRow(account.id, account.login, account.display_name, depts.get(grant.person_id, ""), state))
    return rows


async def add_sub_admins(actor: Actor, person_ids: list[int]) -> list[str]:
    """Appoint people of the current org; returns the logins (new accounts start with the initial password).

    With a random initial password (系统设置), ``last_initial_passwords`` of the returned list says which.
    """
    org_id = _org_id(actor)
    await authorize(actor, Perm.SUBADMIN_MANAGE, org_id)
    if not person_ids:
        raise ValidationFailed("请从通讯录中选择人员", field="person")
    org = await Org.get(id=org_id)
    people = await Person.filter(id__in=person_ids, org_id=org_id, is_active=True)
    if len(people) != len(set(person_ids)):
        raise ValidationFailed("只能选择本组织通讯录中的有效人员", field="person")
    logins = [login_for(p) for p in people]  # fail before granting anything
    created = NewLogins(logins)
    for person, login in zip(people, logins, strict=True):
        account, _ = await accounts.grant_role(
            actor, login=login, display_name=person.name, role=Role.SUB_ADMIN, org=org, person_id=person.id
        )
        if getattr(account, "initial_password", None):
            created.initial_passwords[login] = account.initial_password
    return created


class NewLogins(list):
    """The logins, plus the initial password of each account created just now (to show once)."""

    def __init__(self, logins: list[str]) -> None:
        super().__init__(logins)
        self.initial_passwords: dict[str, str] = {}


async def remove_sub_admin(actor: Actor, account_id: int) -> str:
    org_id = _org_id(actor)
    await authorize(actor, Perm.SUBADMIN_MANAGE, org_id)
    grant = await RoleGrant.get_or_none(account_id=account_id, org_id=org_id, role=Role.SUB_ADMIN)
    if grant is None:
        raise NotFound("该账号不是本组织的子管理员")
    org = await Org.get(id=org_id)
    account = await Account.get(id=account_id)
    await accounts.revoke_role(actor, account_id=account_id, role=Role.SUB_ADMIN, org=org)
    return account.login
