"""设置 > 系统设置: parameters seeded by initialisation, validated and audited when changed."""

from __future__ import annotations

from nicegui.testing import User

from app.models.audit import AuditLog
from app.services import system_params
from tests.ui.helpers import change_initial_password, login


async def _as_initialised_admin(user: User) -> None:
    await login(user, "admin", "1")
    await change_initial_password(user, "1")
    await user.open("/settings/init")
    user.find(marker="run-init").click()
    await user.should_see("本次执行完成")


async def test_before_initialisation_the_page_says_what_to_do(user: User) -> None:
    await login(user, "admin", "1")
    await change_initial_password(user, "1")
    await user.open("/settings/system")
    await user.should_see("尚未执行系统初始化")


async def test_bad_address_is_refused_and_changes_nothing_then_a_good_one_is_saved(user: User) -> None:
    await _as_initialised_admin(user)
    await user.open("/settings/system")
    await user.should_see("服务器DNS(外网)")
    assert await system_params.get_value("server_dns") == "http://console.test"

    user.find(marker="server_dns").clear().type("not a url")
    user.find(marker="login_max_failures").clear().type("7")
    user.find(marker="save-params").click()
    await user.should_see("请填写完整的外网地址")
    assert await system_params.get_value("server_dns") == "http://console.test"
    assert await system_params.get_value("login_max_failures") == 5  # nothing saved while one field is wrong

    user.find(marker="server_dns").clear().type("https://landing.example.com/")
    user.find(marker="save-params").click()
    await user.should_see("已保存，2 项有变化")
    assert await system_params.get_value("server_dns") == "https://landing.example.com"
    entry = await AuditLog.filter(action="system.param", object_id="server_dns").first()
    assert entry.before == {"value": "http://console.test"} and entry.after == {"value": "https://landing.example.com"}
