"""The menus each role is shown are exactly the entries the pages declare with ``@page(..., menu=...)``.

The menu, the role matrix (which role sees which page) and the menu rows that system initialisation copies into
the database all come from the page declarations, so a page added with a menu entry shows up for the right roles
without a second list to edit.
"""

from __future__ import annotations

import importlib

import pytest
from nicegui import ui
from nicegui.testing import User

from app import main
from app.components import frame
from app.models.accounts import Role
from app.services import catalog
from tests import factories
from tests.ui.helpers import login


def _declared() -> list[frame.PageDef]:
    for name in main.PAGE_MODULES:
        importlib.import_module(f"app.pages.{name}")
    return [p for p in frame.declared_pages() if p.menu is not None]


def _expected(role: Role) -> dict[str, list[str]]:
    """Section code -> menu labels in order, as the declarations give them for ``role``."""
    menus: dict[str, list[str]] = {}
    for entry in sorted((p for p in _declared() if role in p.roles), key=lambda p: p.menu[1]):
        menus.setdefault(entry.section, []).append(entry.title)
    return menus


def _links(user: User, css: str) -> list[ui.link]:
    found = user.find(kind=ui.link).elements
    return sorted((e for e in found if css in e.classes), key=lambda e: e.id)


@pytest.mark.parametrize("role", list(Role))
async def test_each_role_sees_exactly_the_declared_menu(user: User, role: Role) -> None:
    expected = _expected(role)
    await user.open("/login")
    org = await factories.org("叮当科技", "corpA", is_main=True)
    await factories.account("someone", role, None if role == Role.SUPER_ADMIN else org)
    await login(user, "someone", factories.PASSWORD)
    await user.should_see("欢迎")
    sections = [e.props.get("data-section") for e in _links(user, "landing-nav") if e.props.get("data-section")]
    assert sections == [code for code, _ in catalog.SECTIONS if code in expected]
    for section, labels in expected.items():
        first = min((p for p in _declared() if p.section == section and role in p.roles), key=lambda p: p.menu[1])
        await user.open(first.path)
        await user.should_see(labels[0])
        assert [e.text for e in _links(user, "landing-menu")] == labels, section


def test_system_initialisation_copies_exactly_the_declared_menu() -> None:
    declared = {(p.menu[0], p.section, p.title, p.path, p.perm, p.menu[1]) for p in _declared()}
    seeded = {(m.code, m.section, m.label, m.path, m.perm, m.sort) for m in catalog.MENUS}
    assert seeded == declared
    assert {m.code for m in frame.menu_entries()} == {m.code for m in catalog.MENUS}
