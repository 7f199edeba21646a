"""A service's message next to its field reaches the page as the service wrote it: the form component neither
escapes it (the browser draws ``error-message`` as text) nor lets markup, quotes or backslashes change it.
The browser side of the same promise is tests/e2e/test_browser_field_errors.py."""

from __future__ import annotations

from nicegui.testing import User

from app.models.accounts import Role
from app.models.contacts import Department
from tests import contacts_factory as cf
from tests import factories
from tests.ui.helpers import eventually, login

NAME = '<b>研发</b>"引号"\\'


async def test_a_refused_name_comes_back_unchanged_next_to_the_field(user: User) -> None:
    await user.open("/login")
    tree = await cf.build()
    await cf.dept(tree.org, tree.root, NAME)
    await factories.account("admin1", Role.ORG_ADMIN, tree.org)
    await login(user, "admin1", factories.PASSWORD)
    await user.should_see("欢迎")
    await user.open(f"/contacts/dept/new?parent={tree.root.id}")
    await user.should_see("新增部门")
    user.find(marker="dept-name").type(NAME)
    user.find(marker="dept-submit").click()
    expected = f"上级部门「{tree.root.name}」下已有名为「{NAME}」的部门"
    field = user.find(marker="dept-name").elements.pop()

    async def shown() -> bool:
        return bool(field.props.get("error-message"))

    await eventually(shown)
    assert field.props.get("error") is True
    assert field.props["error-message"] == expected
    assert await Department.filter(name=NAME).count() == 1

    # A name that is free saves.
    user.find(marker="dept-name").clear().type("新部门")
    user.find(marker="dept-submit").click()
    await user.should_see("部门已保存")
