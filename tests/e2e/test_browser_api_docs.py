"""Swagger UI and ReDoc render in a real browser from the console's own files: no request leaves the machine."""

from __future__ import annotations

from urllib.parse import urlparse

from tests.e2e.conftest import SCREENSHOTS


def test_swagger_ui_and_redoc_render_offline(console: str, browser_page) -> None:
    page = browser_page
    hosts: set[str] = set()  # hosts that answered the page
    refused: list[str] = []  # why the browser refused to fetch from anywhere else
    page.on("response", lambda r: hosts.add(urlparse(r.url).hostname or "") if r.url.startswith("http") else None)
    page.on("requestfailed", lambda r: refused.append(f"{r.url} {r.failure}"))
    page.goto(f"{console}/docs")
    page.get_by_text("用接入标识绑定，换取对接钉钉的参数和认证账号/密码").first.wait_for()
    assert page.get_by_text("蓝钉管理平台 API").first.is_visible()
    page.screenshot(path=SCREENSHOTS / "20-api-docs-swagger.png")
    page.goto(f"{console}/redoc")
    page.get_by_role("heading", name="部门映射（EKP 部门 ID ↔ 钉钉部门 ID）").first.wait_for()
    page.screenshot(path=SCREENSHOTS / "21-api-docs-redoc.png")
    assert hosts == {"127.0.0.1"}, hosts
    assert all(r.endswith("csp") or "127.0.0.1" in r for r in refused), refused  # blocked before it left
