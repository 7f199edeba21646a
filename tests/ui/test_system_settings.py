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


async def _audit_times(user: User) -> set[str]:
    from nicegui import ui

    await user.open("/permissions/audit")
    await user.should_see("页，共")  # the first page has arrived (the table itself is drawn before its rows)
    table = user.find(marker="audit-table").elements.pop()
    assert isinstance(table, ui.table)
    return {row["at"] for row in table.rows}


async def test_time_zone_is_chosen_once_and_every_time_on_screen_follows_it(user: User) -> None:
    from datetime import UTC, timedelta

    import pytest

    from app.core import localtime
    from app.services.errors import ValidationFailed
    from app.services.permissions import Actor

    try:
        await _as_initialised_admin(user)
        await user.open("/settings/system")
        await user.should_see("Asia/Shanghai (UTC+08:00)")  # the default, before anyone chose one
        entry = await AuditLog.filter(action="system.init").order_by("-id").first() or await AuditLog.first()
        shanghai = localtime.fmt(entry.at)
        assert shanghai == (entry.at + timedelta(hours=8)).strftime(localtime.FULL)
        assert shanghai in await _audit_times(user)

        await user.open("/settings/system")
        user.find(marker="time_zone").click()
        user.find("UTC").click()
        user.find(marker="save-time-zone").click()
        await user.should_see("时区已改为 UTC")
        assert await system_params.get_value("time_zone") == "UTC"
        changed = await AuditLog.filter(action="system.param", object_id="time_zone").first()
        assert changed.before == {"value": "Asia/Shanghai"} and changed.after == {"value": "UTC"}
        assert entry.at.astimezone(UTC).strftime(localtime.FULL) in await _audit_times(user)

        admin = Actor(account_id=changed.account_id, login="admin", display_name="admin", is_super=True)
        with pytest.raises(ValidationFailed, match="未知的时区"):
            await system_params.set_time_zone(admin, "Mars/Olympus")
        assert await system_params.get_value("time_zone") == "UTC"  # a bad name changes nothing
    finally:
        localtime.set_zone(localtime.DEFAULT_ZONE)
