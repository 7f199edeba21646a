"""Keyboard and a 1024 px screen, in a real browser against the demo: Tab reaches the department tree, arrow keys
walk it, Enter opens; search hits and the 选择组织 cards work with Enter; no column of 通讯录 or 审计日志 is lost."""

from __future__ import annotations

import re

import pytest

from tests.e2e.conftest import SCREENSHOTS
from tests.e2e.test_demo_command import demo  # noqa: F401 - the demo console fixture

pytestmark = pytest.mark.e2e


def _active(page) -> dict:
    return page.evaluate(
        "() => { const e = document.activeElement; return {role: e.getAttribute('role'), text: e.innerText || '',"
        " expanded: e.getAttribute('aria-expanded'), tag: e.tagName, label: e.getAttribute('aria-label') || ''}; }"
    )


def _tab_until(page, predicate, limit: int = 60) -> dict:
    for _ in range(limit):
        page.keyboard.press("Tab")
        current = _active(page)
        if predicate(current):
            return current
    raise AssertionError(f"Tab never reached the element; last focus {_active(page)}")


def _columns_reachable(page, table) -> list[str]:
    """Header texts of ``table`` that can be brought inside the table's visible area (scrolling it if needed)."""
    return page.evaluate(
        """(t) => { const m = t.querySelector('.q-table__middle'); const out = [];
        for (const th of t.querySelectorAll('thead th')) { th.scrollIntoView({inline: 'nearest', block: 'nearest'});
          const a = th.getBoundingClientRect(), b = m.getBoundingClientRect();
          const inside = a.left >= b.left - 1 && a.right <= b.right + 1 && a.right <= window.innerWidth;
          if (inside) out.push(th.innerText.trim()); }
        return out; }""",
        table.element_handle(),
    )


def test_main_flows_by_keyboard_at_1024_px(demo, browser_page) -> None:  # noqa: F811
    ports, _ = demo
    base = f"http://127.0.0.1:{ports['console']}"
    page = browser_page
    page.set_viewport_size({"width": 1024, "height": 800})

    # Log in without the mouse: the fields are found by their labels, Tab moves on, Enter submits.
    page.goto(f"{base}/login")
    page.get_by_label("账号").focus()
    page.keyboard.type("admin")
    page.keyboard.press("Tab")
    page.keyboard.type("1")
    page.keyboard.press("Enter")
    page.get_by_label("原密码").fill("1")
    page.get_by_label("新密码", exact=True).fill("Landing2026x")
    page.get_by_label("确认新密码").fill("Landing2026x")
    page.keyboard.press("Enter")
    page.get_by_text("组织概况").wait_for()

    # 选择组织: the card is a tab stop and Enter enters the org.
    page.goto(f"{base}/select-org?redirect_to=/contacts")
    card = _tab_until(page, lambda a: a["role"] == "button" and "主组织" in a["text"])
    assert card["text"]
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r".*/contacts.*"))

    # The department tree: one tab stop, arrows walk and open it, Enter selects.
    page.get_by_role("treeitem").first.wait_for()
    root = _tab_until(page, lambda a: a["role"] == "treeitem")
    assert root["expanded"] == "true"  # the root opens on its first level
    page.keyboard.press("ArrowDown")
    page.wait_for_function("() => document.activeElement.getAttribute('aria-level') === '2'")
    child = _active(page)
    assert child["text"] != root["text"]
    page.keyboard.press("ArrowRight")
    page.wait_for_function("() => document.activeElement.getAttribute('aria-expanded') === 'true'")
    page.keyboard.press("ArrowLeft")
    page.wait_for_function("() => document.activeElement.getAttribute('aria-expanded') === 'false'")
    page.keyboard.press("Enter")
    name = child["text"].split("(")[0]
    page.get_by_text(name, exact=True).and_(page.locator("[class*=text-h6]")).wait_for()
    page.screenshot(path=SCREENSHOTS / "22-keyboard-tree-1024.png")

    # No column of the people table is lost at 1024 px: each header can be brought into view.
    people = page.locator(".q-table__container").nth(1)
    people.wait_for()
    reachable = _columns_reachable(page, people)
    assert {"姓名", "手机号", "职位", "工号", "状态"} <= {re.sub(r"\W*arrow_upward", "", r) for r in reachable}, (
        reachable
    )

    # Search by keyboard: the box has a label, Enter searches, Tab reaches a hit, Enter opens it.
    page.get_by_label("搜索部门或人员").focus()
    page.keyboard.type("分公司")
    page.keyboard.press("Enter")
    page.get_by_role("link", name=re.compile("分公司")).first.wait_for()
    hit = _tab_until(page, lambda a: a["role"] == "link" and "分公司" in a["text"], limit=10)
    page.keyboard.press("Enter")
    page.get_by_text(hit["label"].removeprefix("部门 "), exact=True).and_(page.locator("[class*=text-h6]")).wait_for()

    # 审计日志 at 1024 px keeps 来源IP and 说明.
    page.goto(f"{base}/permissions/audit")
    audit = page.locator(".q-table__container").first
    audit.wait_for()
    assert {"时间", "操作人", "来源IP", "说明"} <= set(_columns_reachable(page, audit))
    page.screenshot(path=SCREENSHOTS / "23-audit-1024.png")

    # Every field of a form is found by its label, also where the label is drawn beside the field.
    page.goto(f"{base}/settings/system")
    for label in ("显示时区", "服务器DNS(外网)", "系统名称"):
        page.get_by_label(label).wait_for()
    page.goto(f"{base}/contacts/person/new?dept=1")
    for label in ("姓名", "登录账号", "手机号", "邮箱", "工号", "职位"):
        page.get_by_label(label, exact=True).wait_for()
    page.get_by_label("姓名", exact=True).fill("键盘测试")
    assert page.get_by_label("姓名", exact=True).input_value() == "键盘测试"
