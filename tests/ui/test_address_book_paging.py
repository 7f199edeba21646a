"""地址本 with a department of more people than one page: the console's one pager under the member list, choices
kept across pages, people chosen with the mouse or the keyboard, and the pager hidden where one page is enough."""

from __future__ import annotations

from nicegui.testing import User

from app.models.accounts import Role
from app.models.contacts import Person
from tests import contacts_factory as cf
from tests import factories
from tests.ui.helpers import login

PEOPLE = 120  # 50 + 50 + 20 at the 地址本's page size


def _options(user: User) -> list[str]:
    """The people the dialog lists now, by the names screen readers announce (role=option rows)."""
    return sorted(
        str(element.props.get("aria-label"))
        for element in list(user.client.elements.values())
        if element.props.get("role") == "option" and element.visible
    )


async def test_members_page_with_the_shared_pager(user: User) -> None:
    await user.open("/login")
    tree = await cf.build()
    big = await cf.dept(tree.org, tree.root, "大部门")
    for n in range(1, PEOPLE + 1):
        await cf.person(tree.org, big, f"成员{n:03d}")
    await factories.account("admin1", Role.ORG_ADMIN, tree.org)
    await login(user, "admin1", factories.PASSWORD)
    await user.should_see("欢迎")
    market = tree.depts["市场部"]
    await user.open(f"/contacts/dept/{market.id}/edit")
    await user.should_see("编辑部门")

    # A department with one page of people shows no pager.
    user.find(marker="pick-admin_ids").click()
    await user.should_see(marker="ab-ok")
    user.find(marker=f"ab-node-{market.id}").click()
    await user.should_see(marker=f"ab-person-{tree.people['王五'].id}")
    await user.should_not_see(marker="ab-members-next")

    user.find(marker=f"ab-node-{big.id}").click()
    await user.should_see("第 1 / 3 页，共 120 条")
    first = _options(user)
    assert len(first) == 50
    ids = {p.name: p.id for p in await Person.filter(main_dept_id=big.id)}
    user.find(marker=f"ab-person-{ids[first[0]]}").click()  # by mouse
    await user.should_see("已选 (1)")

    user.find(marker="ab-members-next").click()
    await user.should_see("第 2 / 3 页，共 120 条")
    second = _options(user)
    assert len(second) == 50 and not set(first) & set(second)
    user.find(marker=f"ab-person-{ids[second[-1]]}").trigger("keydown.enter")  # by keyboard
    await user.should_see("已选 (2)")

    user.find(marker="ab-members-next").click()
    await user.should_see("第 3 / 3 页，共 120 条")
    third = _options(user)
    assert len(third) == 20 and sorted(first + second + third) == sorted(ids)
    assert not user.find(marker="ab-members-next").elements.pop().enabled

    user.find(marker="ab-members-prev").click()
    await user.should_see("第 2 / 3 页，共 120 条")
    assert _options(user) == second

    # Opening another department starts it at its first page; coming back starts again at page 1.
    user.find(marker=f"ab-node-{market.id}").click()
    await user.should_not_see(marker="ab-members-next")
    user.find(marker=f"ab-node-{big.id}").click()
    await user.should_see("第 1 / 3 页，共 120 条")

    user.find(marker="ab-ok").click()
    await user.should_see(first[0])
    await user.should_see(second[-1])
