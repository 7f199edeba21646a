"""Sessions that end, seen in real browsers (issue 13, item 1): open pages of other browsers go to the login page."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import SCREENSHOTS

pytestmark = pytest.mark.e2e

FIRST = "Landing2026x"
SECOND = "Qz7-turnip-Lantern"


def _login(page, console: str, password: str) -> None:
    page.goto(f"{console}/login")
    page.get_by_label("账号").fill("admin")
    page.get_by_label("密码", exact=True).fill(password)
    page.get_by_role("button", name="登录").click()


def _first_login_and_init(page, console: str) -> None:
    _login(page, console, "1")
    page.get_by_label("原密码").fill("1")
    page.get_by_label("新密码", exact=True).fill(FIRST)
    page.get_by_label("确认新密码").fill(FIRST)
    page.get_by_role("button", name="保存").click()
    page.get_by_text("系统尚未初始化").wait_for()
    page.goto(f"{console}/settings/init")
    page.get_by_role("button", name="执行初始化").click()
    page.get_by_text("本次执行完成").wait_for()


def test_password_change_and_logout_close_the_other_pages(console: str, browser_page) -> None:
    page = browser_page
    _first_login_and_init(page, console)

    # A second browser (its own cookies) of the same account, with a settings page open.
    other_context = page.context.browser.new_context(locale="zh-CN")
    other = other_context.new_page()
    other.set_default_timeout(15000)
    _login(other, console, FIRST)
    other.get_by_text("欢迎").wait_for()
    other.goto(f"{console}/settings/system")
    other.get_by_role("button", name="保存", exact=True).wait_for()

    page.goto(f"{console}/change-password")
    page.get_by_label("原密码").fill(FIRST)
    page.get_by_label("新密码", exact=True).fill(SECOND)
    page.get_by_label("确认新密码").fill(SECOND)
    page.get_by_role("button", name="保存").click()
    page.wait_for_url(f"{console}/")
    page.screenshot(path=SCREENSHOTS / "security-00-after-change.png")

    other.wait_for_url("**/login?ended=1")
    other.get_by_text("登录已失效").wait_for()
    other.screenshot(path=SCREENSHOTS / "security-01-session-ended.png")
    page.goto(f"{console}/settings/system")  # the browser that changed the password stays logged in
    page.get_by_role("button", name="保存", exact=True).wait_for()

    # A second tab of this browser; 退出 in the first one sends it to the login page too.
    tab = page.context.new_page()
    tab.set_default_timeout(15000)
    tab.goto(f"{console}/settings/system")
    tab.get_by_role("button", name="保存", exact=True).wait_for()
    page.goto(f"{console}/")
    page.get_by_role("button", name="退出").click()
    page.wait_for_url("**/login")
    tab.wait_for_url("**/login?ended=1")
    other_context.close()


def test_a_get_of_logout_changes_nothing(console: str, browser_page) -> None:
    page = browser_page
    _first_login_and_init(page, console)
    # What a link on another site does: a top-level GET with our cookie (SameSite=Lax sends it).
    page.goto(f"{console}/logout", referer="https://evil.example.com/")
    page.get_by_text("确定要退出登录吗？").wait_for()
    page.goto(f"{console}/settings/system")
    page.get_by_role("button", name="保存安全设置").wait_for()
    page.screenshot(path=SCREENSHOTS / "security-02-system-settings.png", full_page=True)
    page.goto(f"{console}/logout")
    page.get_by_role("button", name="退出登录").click()
    page.wait_for_url("**/login")
    page.goto(f"{console}/settings/system")
    page.wait_for_url("**/login?**")
