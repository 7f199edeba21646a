"""The unit of work on a real database: the order it promises (permission, snapshot, transaction with the audit line,
after-commit hooks, the contacts-changed notification last) and what a rollback leaves behind (nothing)."""

from __future__ import annotations

import pytest

from app.core import change_tracking
from app.models.accounts import Account, Role
from app.models.audit import AuditLog
from app.models.contacts import Department
from app.services.errors import PermissionDenied
from app.services.permissions import Perm, SessionEnded
from app.services.write import current, write, writer
from tests import contacts_factory as cf


@pytest.fixture
async def tree(orm):
    return await cf.build()


@pytest.fixture
async def admin(tree):
    return await cf.actor("orgadmin", Role.ORG_ADMIN, tree.org)


@pytest.fixture
def events():
    """What the change listeners (the access-system notifier in production) were told, in order."""
    told: list[tuple[int, str, dict]] = []

    async def remember(*event) -> None:
        told.append(event)

    change_tracking.subscribe(remember)
    try:
        yield told
    finally:
        change_tracking.clear_listeners()


def _snap(dept: Department) -> dict:
    return {"name": dept.name}


async def test_commit_writes_the_change_and_its_audit_line_then_runs_hooks_in_order(tree, admin, events) -> None:
    dept = tree.depts["研发部"]
    order: list[str] = []
    unit = write(admin, Perm.CONTACTS_EDIT, org_id=tree.org.id, target=dept, snapshot=_snap, kind="department")
    async with unit as w:
        dept.name = "研发中心"
        w.push(dept)
        await dept.save()
        await w.audit("contacts.dept.update")
        w.contacts_changed(tree.org.id, "contacts.dept.update", {"dept_ids": [dept.id]})
        w.after_commit(lambda: order.append(f"sync hook sees {events!r}"))

        async def second() -> None:
            order.append("async hook")

        w.after_commit(second)
        assert order == [] and events == []  # nothing runs before the commit
    assert order == ["sync hook sees []", "async hook"]  # hooks in the order added, before the notification
    assert events == [(tree.org.id, "contacts.dept.update", {"dept_ids": [dept.id]})]
    stored = await Department.get(id=dept.id)
    assert stored.name == "研发中心" and stored.needs_push
    line = await AuditLog.get(action="contacts.dept.update")
    assert (line.before, line.after) == ({"name": "研发部"}, {"name": "研发中心"})
    assert (line.org_id, line.object_type, line.object_id, line.account_login) == (
        tree.org.id, "department", str(dept.id), "orgadmin"
    )  # fmt: skip


async def test_a_failure_inside_rolls_back_the_change_and_the_audit_line_and_runs_no_hook(tree, admin, events) -> None:
    dept = tree.depts["研发部"]
    ran: list[str] = []
    with pytest.raises(RuntimeError):
        async with write(admin, Perm.CONTACTS_EDIT, org_id=tree.org.id, target=dept, snapshot=_snap) as w:
            dept.name = "研发中心"
            await dept.save()
            await w.audit("contacts.dept.update")
            w.after_commit(lambda: ran.append("hook"))
            w.contacts_changed(tree.org.id, "contacts.dept.update")
            raise RuntimeError("boom")
    assert (await Department.get(id=dept.id)).name == "研发部"
    assert not await AuditLog.filter(action="contacts.dept.update").exists()
    assert ran == [] and events == []


async def test_a_nested_write_hands_its_hooks_to_the_outer_one(tree, admin, events) -> None:
    ran: list[str] = []
    async with write(admin, Perm.CONTACTS_EDIT, org_id=tree.org.id) as outer:
        async with write(admin, Perm.CONTACTS_EDIT, org_id=tree.org.id) as inner:
            assert current() is inner
            inner.after_commit(lambda: ran.append("inner"))
            inner.contacts_changed(tree.org.id, "inner.change")
        assert current() is outer
        assert ran == [] and events == []  # the outer transaction has not committed yet
        outer.after_commit(lambda: ran.append("outer"))
    assert current() is None
    assert ran == ["inner", "outer"]
    assert [e[1] for e in events] == ["inner.change"]


async def test_the_permission_is_checked_against_the_account_as_it_is_now(tree, admin) -> None:
    sub = await cf.actor("sub", Role.SUB_ADMIN, tree.org)
    with pytest.raises(PermissionDenied):
        async with write(sub, Perm.ORG_EDIT, org_id=tree.org.id):
            pytest.fail("a sub-admin may not edit the org")
    w = await writer(admin, Perm.CONTACTS_EDIT, org_id=tree.org.id)
    await Account.filter(id=admin.account_id).update(is_active=False)  # disabled after the check: the check stands
    async with w:
        pass
    with pytest.raises(SessionEnded):  # ... but the next write re-reads the account
        await writer(admin, Perm.CONTACTS_EDIT, org_id=tree.org.id)


async def test_an_audit_line_outside_the_block_is_refused(tree, admin) -> None:
    w = write(admin, Perm.CONTACTS_EDIT, org_id=tree.org.id)
    with pytest.raises(RuntimeError, match="inside"):
        await w.audit("contacts.dept.update")
