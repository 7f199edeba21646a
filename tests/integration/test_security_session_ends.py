"""Which events end an account's sessions (issue 13, item 1), checked on the session generation every action reads."""

from __future__ import annotations

import pytest

from app.models.accounts import Account, Role
from app.services import accounts, orgs
from app.services.errors import PermissionDenied
from app.services.permissions import Perm, SessionEnded, authorize
from tests import factories


async def _session_actor(account: Account, org_id: int | None = None):
    """An actor as a browser session holds it: with the account's session generation at login."""
    return await accounts.load_actor(account.id, org_id, "198.51.100.20", account.session_epoch)


async def test_a_password_reset_from_the_command_line_ends_every_session(orm) -> None:
    org = await factories.org("叮当科技", "corpA", is_main=True)
    account = await factories.account("sub", Role.SUB_ADMIN, org)
    actor = await _session_actor(account, org.id)
    await authorize(actor, Perm.ACCESS_MANAGE, org.id)
    await accounts.reset_password("sub")
    with pytest.raises(SessionEnded):
        await authorize(actor, Perm.ACCESS_MANAGE, org.id)


async def test_dissolving_an_org_ends_the_sessions_of_its_admins(orm) -> None:
    main = await factories.org("叮当科技", "corpA", is_main=True)
    other = await factories.org("叮当二部", "corpB")
    both = await factories.account("both", Role.ORG_ADMIN, main)
    await factories.account("both", Role.ORG_ADMIN, other)  # the same account, admin of both orgs
    root = await factories.account("root", Role.SUPER_ADMIN)
    actor = await _session_actor(both, other.id)
    async with factories.unreachable_dingtalk() as client:
        await orgs.dissolve_orgs(await accounts.load_actor(root.id), [other.id], client=client)
    with pytest.raises(SessionEnded):
        await authorize(actor, Perm.ORG_VIEW, other.id)
    # Logged in again, the account still works in the org it keeps.
    again = await _session_actor(await Account.get(id=both.id), main.id)
    await authorize(again, Perm.ORG_VIEW, main.id)


async def test_a_disabled_account_and_a_reduced_role_take_effect_on_the_next_call(orm) -> None:
    org = await factories.org("叮当科技", "corpA", is_main=True)
    account = await factories.account("boss", Role.ORG_ADMIN, org)
    actor = await _session_actor(account, org.id)
    await authorize(actor, Perm.SUBADMIN_MANAGE, org.id)
    from app.models.accounts import RoleGrant

    await RoleGrant.filter(account_id=account.id).update(role=Role.SUB_ADMIN)  # e.g. written by another replica
    with pytest.raises(PermissionDenied):
        await authorize(actor, Perm.SUBADMIN_MANAGE, org.id)
    await Account.filter(id=account.id).update(is_active=False)
    with pytest.raises(SessionEnded):
        await authorize(actor, Perm.ACCESS_MANAGE, org.id)
