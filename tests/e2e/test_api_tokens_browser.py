"""A token made on the 管理员 page in Chromium works against the real console process, until it is revoked; the
OpenAPI page documents the sync-runs API."""

from __future__ import annotations

import httpx
import pytest

from tests.e2e.conftest import SCREENSHOTS, first_admin_login

pytestmark = pytest.mark.e2e


def test_token_from_the_browser_calls_the_api_until_revoked(console: str, browser_page) -> None:
    spec = httpx.get(f"{console}/openapi.json").json()
    runs = spec["paths"]["/api/v1/orgs/{org_id}/sync-runs"]
    assert runs["post"]["tags"] == ["通讯录同步"] and {"202", "401", "403", "409"} <= set(runs["post"]["responses"])
    assert "/api/v1/orgs/{org_id}/sync-runs/{run_id}" in spec["paths"]
    assert "LanDingApiToken" in spec["components"]["securitySchemes"]
    assert httpx.get(f"{console}/docs").status_code == 200

    page = browser_page
    first_admin_login(page, console)
    page.get_by_text("系统尚未初始化").wait_for()
    page.goto(f"{console}/permissions/admins")
    page.get_by_text("还没有 API 令牌").wait_for()
    page.get_by_role("button", name="新建令牌").click()
    page.get_by_label("令牌名称").fill("夜间同步脚本")
    page.get_by_role("button", name="创建").click()
    page.get_by_text("关闭此窗口后将无法再次查看").wait_for()
    page.screenshot(path=SCREENSHOTS / "20-token-created.png", animations="disabled")
    token = page.locator(".text-mono", has_text="ldt_").inner_text().strip()
    page.get_by_role("button", name="我已保存").click()
    page.get_by_role("cell", name="夜间同步脚本").wait_for()

    url = f"{console}/api/v1/orgs/1/sync-runs"
    assert httpx.get(url).status_code == 401
    answer = httpx.get(url, headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 404 and answer.json()["errmsg"] == "组织不存在或已解散"  # no org yet, but let in

    page.reload()
    page.get_by_role("cell", name="夜间同步脚本").wait_for()
    page.screenshot(path=SCREENSHOTS / "21-token-list.png", full_page=True)
    page.get_by_role("button", name="撤销").click()
    page.get_by_text("确认撤销令牌「夜间同步脚本」").wait_for()
    page.screenshot(path=SCREENSHOTS / "22-token-revoke-confirm.png", animations="disabled")
    page.get_by_role("button", name="撤销").last.click()
    page.get_by_text("已撤销令牌「夜间同步脚本」").wait_for()
    answer = httpx.get(url, headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 401 and answer.json()["errmsg"] == "API 令牌已撤销"
