"""The integration component in a real browser, as a newcomer meets it in ``landing demo``: log in, see the
binding and the mapping, send a todo from the EKP page, find it in the DingTalk user's page, finish it."""

from __future__ import annotations

import time

import httpx
import pytest

from tests.e2e.conftest import SCREENSHOTS
from tests.e2e.test_demo_command import demo  # noqa: F401 - the fixture

pytestmark = pytest.mark.e2e


def _wait(check, what: str, timeout: float = 120.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = check()
        except httpx.HTTPError:
            value = None
        if value:
            return value
        time.sleep(1)
    raise AssertionError(f"timed out waiting for {what}")


def test_connector_pages_and_a_todo_from_ekp_to_dingtalk(demo, browser_page) -> None:  # noqa: F811
    ports, log_path = demo
    connector = f"http://127.0.0.1:{ports['connector']}"
    ekp = f"http://127.0.0.1:{ports['ekp']}"
    ding = f"http://127.0.0.1:{ports['dingtalk']}"
    _wait(lambda: httpx.get(f"{connector}/healthz").status_code == 200, "the connector")

    page = browser_page
    page.goto(f"{connector}/login")
    page.get_by_label("账号").fill("admin")
    page.get_by_label("密码", exact=True).fill("1")
    page.get_by_role("button", name="登录").click()
    page.get_by_label("原密码").fill("1")
    page.get_by_label("新密码", exact=True).fill("Connector2026x")
    page.get_by_label("确认新密码").fill("Connector2026x")
    page.get_by_role("button", name="保存").click()
    page.get_by_text("人员映射").first.wait_for()

    def mapped() -> bool:
        page.goto(f"{connector}/")
        if not page.get_by_text("已绑定：叮当科技").is_visible():
            return False
        return int(page.locator(".text-h5").first.inner_text()) >= 100  # the demo's EKP has 160 people

    _wait(mapped, "the demo connector to be bound with people mapped", timeout=180)
    page.screenshot(path=SCREENSHOTS / "20-connector-home.png")

    page.goto(f"{connector}/config")
    page.get_by_text("已绑定蓝钉管理平台").wait_for()
    assert "****" in page.locator("text=AppSecret").locator("xpath=..").inner_text()
    page.screenshot(path=SCREENSHOTS / "21-connector-binding.png", full_page=True)
    page.get_by_role("tab", name="待办通知配置").click()
    page.get_by_label("钉钉消息标题的颜色").fill("blue")
    page.get_by_role("button", name="保存").last.click()
    page.get_by_text("颜色格式不正确").first.wait_for()
    page.get_by_label("钉钉消息标题的颜色").fill("#E6A23C")
    page.get_by_role("button", name="保存").last.click()
    page.get_by_text("待办通知配置已保存").wait_for()
    page.screenshot(path=SCREENSHOTS / "22-connector-todo-config.png", full_page=True)

    page.goto(f"{connector}/mapping?tab=person")
    page.get_by_role("tab", name="人员映射表").click()
    page.get_by_text("EKP登录名").wait_for()
    page.screenshot(path=SCREENSHOTS / "23-connector-person-mapping.png", full_page=True)

    # EKP (simulated) sends a todo through the connector.
    page.goto(f"{ekp}/_sim/ui/todos")
    option = page.locator("select[name=targets] option").first
    login_name = option.get_attribute("value")
    page.locator("select[name=targets]").select_option(login_name)
    page.locator("input[name=subject]").fill("请审批：浏览器里发出的报销单")
    page.get_by_role("button", name="发送待办").click()
    page.get_by_text("发送成功").wait_for()
    page.screenshot(path=SCREENSHOTS / "24-ekp-send-todo.png")

    from app.demo import DEMO_CORP

    users = httpx.get(f"{ding}/_sim/corps/{DEMO_CORP}/users").json()
    names = {u["userid"]: u for u in users}
    record = httpx.get(f"{ekp}/_sim/todos").json()[-1]
    assert record["answer"]["returnState"] == 2

    def user_with_todo():
        for userid in names:
            text = httpx.get(f"{ding}/_sim/ui/users/{userid}?corpid={DEMO_CORP}").text
            if "浏览器里发出的报销单" in text:
                return userid
        return None

    userid = _wait(user_with_todo, "the todo in the DingTalk user's page", timeout=30)
    page.goto(f"{ding}/_sim/ui/users/{userid}?corpid={DEMO_CORP}")
    page.get_by_text("待处理").first.wait_for()
    page.screenshot(path=SCREENSHOTS / "25-dingtalk-user-todo.png", full_page=True)

    page.goto(f"{ekp}/_sim/ui/todos")
    page.get_by_role("button", name="处理完成").first.click()
    page.get_by_text("已处理").first.wait_for()
    _wait(
        lambda: "已完成" in httpx.get(f"{ding}/_sim/ui/users/{userid}?corpid={DEMO_CORP}").text,
        "the todo to be done in DingTalk",
        timeout=30,
    )
    page.goto(f"{ding}/_sim/ui/users/{userid}?corpid={DEMO_CORP}")
    page.get_by_text("已完成").first.wait_for()
    page.screenshot(path=SCREENSHOTS / "26-dingtalk-user-done.png", full_page=True)

    page.goto(f"{connector}/logs")
    page.get_by_label("接口名称").fill("发送待办")
    page.get_by_role("button", name="查询").click()
    page.get_by_role("cell", name="发送待办").first.click()
    page.locator(".q-dialog").get_by_text("返回信息").wait_for()
    assert '"unionId"' in page.locator(".q-dialog").inner_text()
    page.screenshot(path=SCREENSHOTS / "27-connector-log-detail.png")
    page.keyboard.press("Escape")
    page.goto(f"{connector}/errors")
    page.get_by_text("没有异常信息").wait_for()
    page.screenshot(path=SCREENSHOTS / "28-connector-errors.png")
