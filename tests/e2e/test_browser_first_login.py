"""End to end in a real browser: log in, change the initial password, initialise the system."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import SCREENSHOTS, first_admin_login

pytestmark = pytest.mark.e2e


def test_first_login_and_initialisation_in_chromium(console: str, browser_page) -> None:
    page = browser_page
    page.goto(f"{console}/settings/init")
    page.get_by_label("账号").fill("admin")
    page.get_by_label("密码", exact=True).fill("wrong")
    page.get_by_role("button", name="登录").click()
    page.get_by_text("账号或密码错误").wait_for()
    page.screenshot(path=SCREENSHOTS / "01-login-error.png")

    page.get_by_label("密码", exact=True).fill("1")
    page.get_by_role("button", name="登录").click()
    page.get_by_text("请先修改初始密码").wait_for()
    page.screenshot(path=SCREENSHOTS / "02-forced-change.png")
    page.get_by_label("原密码").fill("1")
    page.get_by_label("新密码", exact=True).fill("Landing2026x")
    page.get_by_label("确认新密码").fill("Landing2026x")
    page.get_by_role("button", name="保存").click()

    page.get_by_role("button", name="执行初始化").wait_for()
    page.get_by_role("button", name="执行初始化").click()
    page.get_by_text("本次执行完成：9 项有变化").wait_for()
    assert page.get_by_text("数据字典").is_visible()
    page.screenshot(path=SCREENSHOTS / "03-initialised.png", full_page=True)

    page.goto(f"{console}/")
    page.get_by_text("还没有公司信息").wait_for()
    page.screenshot(path=SCREENSHOTS / "04-home.png")
    page.goto(f"{console}/permissions/audit")
    page.get_by_role("cell", name="系统初始化").first.wait_for()
    page.screenshot(path=SCREENSHOTS / "05-audit.png", full_page=True)
    page.set_viewport_size({"width": 420, "height": 800})
    page.goto(f"{console}/permissions/roles")
    page.get_by_text("权限大小").wait_for()
    page.screenshot(path=SCREENSHOTS / "06-narrow-roles.png")


def test_audit_entry_shows_before_and_after(console: str, browser_page) -> None:
    page = browser_page
    first_admin_login(page, console)
    page.get_by_text("系统尚未初始化").wait_for()
    page.goto(f"{console}/settings/init")
    page.get_by_role("button", name="执行初始化").click()
    page.get_by_text("本次执行完成").wait_for()
    page.goto(f"{console}/settings/system")
    page.get_by_label("服务器DNS(外网)").fill("https://landing.example.com")
    page.get_by_role("button", name="保存", exact=True).click()
    page.get_by_text("已保存，1 项有变化").wait_for()
    page.goto(f"{console}/permissions/audit")
    page.get_by_role("cell", name="修改系统参数").click()
    page.get_by_text("修改前").wait_for()
    assert page.get_by_text('"value": "https://landing.example.com"').is_visible()
    page.screenshot(path=SCREENSHOTS / "07-audit-detail.png")
