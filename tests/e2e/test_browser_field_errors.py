"""A field error that repeats what the admin typed is shown as text, exactly once escaped, in a real browser.

登录认证 echoes a refused 回调地址 in its message. Markup, a script, a quote and a backslash in that address must come
back next to the field as the same characters: no element is created from them, nothing runs, nothing is cut off
at the quote and no ``&lt;`` is shown instead of ``<``.
"""

from __future__ import annotations

import pytest

from tests.e2e.conftest import SCREENSHOTS, first_admin_login

pytestmark = pytest.mark.e2e

TYPED = 'ftp://x/<b>粗体</b><script>window.__injected = 1</script>"引号"\\end'


def test_a_field_error_with_markup_is_shown_as_text(console: str, browser_page) -> None:
    page = browser_page
    first_admin_login(page, console)
    page.get_by_text("欢迎").first.wait_for()
    page.goto(f"{console}/settings/login-auth")
    field = page.get_by_label("回调地址 (redirect_uri)，每行一个")
    field.fill(TYPED)
    page.get_by_role("button", name="保存").click()

    expected = f"回调地址需以 https:// 开头：{TYPED}"
    message = page.locator(".q-field--error .q-field__messages")
    message.wait_for()
    assert message.inner_text().strip() == expected
    assert message.locator("b, script").count() == 0
    assert page.evaluate("() => window.__injected") is None
    page.screenshot(path=SCREENSHOTS / "30-field-error-as-text.png")
