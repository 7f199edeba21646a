"""Table-driven role matrix (guide 3.4): which service calls each role may make, and within which scope."""

from __future__ import annotations

import pytest

from app.models.accounts import Role
from app.services import accounts, admin_directory, audit, system_init
from app.services.errors import PermissionDenied
from app.services.permissions import ROLE_PERMISSIONS, Perm
from tests import factories

# Expected permissions per role, written out by hand so a change to the table has to change this test too.
EXPECTED = {
    Role.SUPER_ADMIN: set(Perm),
    Role.ORG_ADMIN: {
        Perm.ORG_VIEW,
        Perm.ORG_EDIT,
        Perm.SUBADMIN_MANAGE,
        Perm.ACCESS_MANAGE,
        Perm.CONTACTS_VIEW,
        Perm.CONTACTS_EDIT,
        Perm.SYNC_MANAGE,
        Perm.SYNC_LOG_VIEW,
        Perm.AUDIT_VIEW,
        Perm.PERMISSION_VIEW,
        Perm.EXCLUSIVE_MANAGE,  # 专属钉钉 (guide 2) is org configuration: not for sub admins
    },
    Role.SUB_ADMIN: {
        Perm.ORG_VIEW,
        Perm.ACCESS_MANAGE,
        Perm.CONTACTS_VIEW,
        Perm.CONTACTS_EDIT,
        Perm.SYNC_MANAGE,
        Perm.SYNC_LOG_VIEW,
        Perm.PERMISSION_VIEW,
    },
    Role.DEPT_ADMIN: {Perm.CONTACTS_VIEW, Perm.CONTACTS_EDIT},
}


@pytest.mark.parametrize("role", list(Role))
def test_permission_table_matches_the_guide(role: Role) -> None:
    assert set(ROLE_PERMISSIONS[role]) == EXPECTED[role]


@pytest.fixture
async def world(orm):
    org_a = await factories.org("叮当科技", "corpA", is_main=True)
    org_b = await factories.org("蓝悦科技", "corpB")
    actors = {}
    for login, role, org_ in (
        ("admin", Role.SUPER_ADMIN, None),
        ("orgadmin", Role.ORG_ADMIN, org_a),
        ("subadmin", Role.SUB_ADMIN, org_a),
        ("deptadmin", Role.DEPT_ADMIN, org_a),
    ):
        acc = await factories.account(login, role, org_)
        actors[role] = await accounts.load_actor(acc.id, org_a.id, "127.0.0.1")
    return {"a": org_a, "b": org_b, "actors": actors}


async def _try(coro) -> str:
    try:
        await coro
    except PermissionDenied:
        return "refused"
    return "allowed"


@pytest.mark.parametrize(
    ("role", "init", "audit_view", "admins"),
    [
        (Role.SUPER_ADMIN, "allowed", "allowed", "allowed"),
        (Role.ORG_ADMIN, "refused", "allowed", "allowed"),
        (Role.SUB_ADMIN, "refused", "refused", "allowed"),
        (Role.DEPT_ADMIN, "refused", "refused", "refused"),
    ],
)
async def test_service_calls_by_role(world, role: Role, init: str, audit_view: str, admins: str) -> None:
    actor = world["actors"][role]
    assert await _try(system_init.run(actor, "http://console.test")) == init
    assert await _try(audit.search(actor)) == audit_view
    assert await _try(admin_directory.list_admins(actor)) == admins


async def test_org_scope_of_audit_and_admins(world) -> None:
    org_a, org_b = world["a"], world["b"]
    await audit.record(None, "org.edit", org_id=org_a.id, org_name=org_a.name, object_name="A 的记录")
    await audit.record(None, "org.edit", org_id=org_b.id, org_name=org_b.name, object_name="B 的记录")
    org_admin = world["actors"][Role.ORG_ADMIN]
    seen = {row.object_name for row in (await audit.search(org_admin)).rows}
    assert "A 的记录" in seen and "B 的记录" not in seen
    everything = {row.object_name for row in (await audit.search(world["actors"][Role.SUPER_ADMIN])).rows}
    assert {"A 的记录", "B 的记录"} <= everything
    rows = await admin_directory.list_admins(org_admin)
    assert {r["login"] for r in rows} == {"orgadmin", "subadmin", "deptadmin"}


async def test_a_role_in_one_org_gives_nothing_in_another(world) -> None:
    org_admin = world["actors"][Role.ORG_ADMIN]
    assert org_admin.can(Perm.CONTACTS_EDIT, world["a"].id)
    assert not org_admin.can(Perm.CONTACTS_EDIT, world["b"].id)
    assert org_admin.dept_scope(world["a"].id) is None
    dept_admin = world["actors"][Role.DEPT_ADMIN]
    assert dept_admin.dept_scope(world["a"].id) == ()


async def test_account_with_roles_in_two_orgs_picks_between_them(world) -> None:
    acc = await factories.account("twohats", Role.ORG_ADMIN, world["a"])
    await factories.account("twohats", Role.SUB_ADMIN, world["b"])
    actor = await accounts.load_actor(acc.id)
    choices = await accounts.org_choices(actor)
    assert [(c.name, c.role) for c in choices] == [("叮当科技", Role.ORG_ADMIN), ("蓝悦科技", Role.SUB_ADMIN)]
    in_b = await accounts.load_actor(acc.id, world["b"].id)
    assert in_b.can(Perm.SYNC_MANAGE) and not in_b.can(Perm.SUBADMIN_MANAGE)
