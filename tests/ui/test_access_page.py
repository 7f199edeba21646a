"""设置 > 接入系统: create, validate, bind state, notification health, replay, re-arm, edit and delete."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime

from aiohttp import web
from nicegui.testing import User

from app.models.access import AccessSystem, Notification
from app.models.accounts import Role
from app.models.audit import AuditLog
from tests import factories
from tests.ui.helpers import login


async def _org_admin(user: User):
    await user.open("/login")
    org = await factories.org("蓝钉测试企业3", "dingcorp3", is_main=True)
    await factories.account("orgadmin", Role.ORG_ADMIN, org)
    await login(user, "orgadmin", factories.PASSWORD)
    await user.should_see("欢迎")
    return org


async def _create(user: User, identifier: str = "ekptest0001") -> None:
    await user.open("/settings/access/edit")
    user.find(marker="name").type("HR系统接入专用")
    user.find(marker="identifier").type(identifier)
    user.find(marker="auth_account").type("testuser")
    user.find(marker="auth_password").type("test12345678")
    user.find(marker="scan_appid").type("dingoarmh16bixbawk1e")
    user.find(marker="scan_appsecret").type("BDiuUW69CPcTF4JKv6XOvu")
    user.find(marker="submit").click()
    await user.should_see(marker=f"system-{identifier}")


async def test_create_with_validation_and_masked_secrets(user: User) -> None:
    await _org_admin(user)
    await user.open("/settings/access")
    await user.should_see("还没有接入系统")
    user.find("新建接入系统").click()
    await user.should_see("业务系统接入到当前组织时")  # the guide's help text
    user.find(marker="submit").click()
    await user.should_see("请填写系统名称")
    assert await AccessSystem.all().count() == 0

    user.find(marker="name").type("HR系统接入专用")
    user.find(marker="identifier").type("ekptest0001")
    user.find(marker="auth_account").type("testuser")
    user.find(marker="auth_password").type("short")
    user.find(marker="submit").click()
    await user.should_see("认证密码至少 8 位")
    assert await AccessSystem.all().count() == 0

    user.find(marker="auth_password").clear().type("test12345678")
    user.find(marker="submit").click()
    await user.should_see(marker="system-ekptest0001")
    await user.should_see("未绑定")
    await user.should_see("********5678")  # at most the last four characters (issue: masks showed up to eight)
    await user.should_not_see("test****")
    await user.should_not_see("test12345678")
    system = await AccessSystem.get(identifier="ekptest0001")
    assert system.auth_password == "test12345678"
    assert await AuditLog.filter(action="access.create", object_id=str(system.id)).exists()

    # The identifier is unique across the platform.
    await user.open("/settings/access/edit")
    user.find(marker="name").type("另一个")
    user.find(marker="identifier").type("ekptest0001")
    user.find(marker="auth_account").type("other")
    user.find(marker="auth_password").type("test12345678")
    user.find(marker="submit").click()
    await user.should_see("接入标识已被使用")
    assert await AccessSystem.all().count() == 1


async def test_bind_state_rearm_and_edit(user: User) -> None:
    await _org_admin(user)
    await _create(user)
    response = await user.http_client.post(
        "/api/v1/access/bind", json={"identifier": "ekptest0001", "notifyUrl": "http://ekp.test/notify"}
    )
    assert response.status_code == 200 and response.json()["authPassword"] == "test12345678"

    await user.open("/settings/access")
    await user.should_see("已绑定")
    await user.should_see("ekptest0001（已使用）")
    await user.should_see("http://ekp.test/notify")
    user.find(marker="rearm").click()
    await user.should_see("已重新启用")
    await user.should_see("ekptest0001（可使用一次）")
    assert not (await AccessSystem.get(identifier="ekptest0001")).identifier_used

    # Edit: a new name, the password left empty keeps the old one; the notify URL is read-only here.
    system = await AccessSystem.get(identifier="ekptest0001")
    await user.open(f"/settings/access/edit?id={system.id}")
    await user.should_see("编辑接入系统")
    user.find(marker="name").clear().type("EKP 正式环境")
    user.find(marker="submit").click()
    await user.should_see("已保存")
    await user.should_see(marker="system-ekptest0001")
    system = await AccessSystem.get(id=system.id)
    assert system.name == "EKP 正式环境" and system.auth_password == "test12345678"
    assert system.notify_url == "http://ekp.test/notify"
    entry = await AuditLog.filter(action="access.update").first()
    assert entry.after == {"name": "EKP 正式环境"}


@contextlib.asynccontextmanager
async def _receiver() -> AsyncIterator[tuple[str, list[dict]]]:
    """The access system's notification endpoint, now back up: answers 200 and records what it got."""
    got: list[dict] = []

    async def handle(request: web.Request) -> web.Response:
        got.append(await request.json())
        return web.json_response({"success": True})

    app = web.Application()
    app.router.add_post("/notify", handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"http://127.0.0.1:{port}/notify", got
    finally:
        await runner.cleanup()


async def test_failing_notifications_are_shown_and_replayed(user: User) -> None:
    await _org_admin(user)
    await _create(user)
    system = await AccessSystem.get(identifier="ekptest0001")
    async with _receiver() as (url, got):
        system.notify_url = url
        await system.save()
        now = datetime.now(UTC)
        await Notification.create(
            system=system,
            event_type="contacts.changed",
            payload={"detail": {}},
            attempts=8,
            next_attempt_at=now,
            last_attempt_at=now,
            failed_at=now,
            last_error="HTTP 502 Bad Gateway",
        )
        await user.open("/settings/access")
        await user.should_see("1 条通知发送失败（已停止重试）")
        await user.should_see("最近错误：HTTP 502 Bad Gateway")
        assert not got  # given up on: the notifier leaves it alone
        user.find(marker="replay").click()
        await user.should_see("已安排重新发送 1 条通知")
        # The notifier runs on its own schedule: wait (generously) for the replayed notification to arrive.
        deadline = time.monotonic() + 60
        while not (await Notification.get(system_id=system.id)).delivered_at:
            assert time.monotonic() < deadline, "the replayed notification was never delivered"
            await asyncio.sleep(0.1)
        note = await Notification.get(system_id=system.id)
        assert note.failed_at is None and note.attempts == 1 and note.last_error == ""
        assert len(got) == 1 and got[0]
    await user.open("/settings/access")
    await user.should_see(marker="system-ekptest0001")
    await user.should_not_see("已停止重试")


async def test_delete_asks_first(user: User) -> None:
    await _org_admin(user)
    await _create(user)
    user.find(marker="delete").click()
    await user.should_see("删除接入系统「HR系统接入专用」？")
    user.find(marker="confirm-delete").click()
    await user.should_see("已删除接入系统")
    await user.should_see("还没有接入系统")
    assert await AccessSystem.all().count() == 0
    assert await AuditLog.filter(action="access.delete").exists()


async def test_dept_admin_cannot_open_it(user: User) -> None:
    await user.open("/login")
    org = await factories.org("叮当科技", "corpA", is_main=True)
    await factories.account("dept", Role.DEPT_ADMIN, org)
    await login(user, "dept", factories.PASSWORD)
    await user.should_see("欢迎")
    await user.open("/settings/access")
    await user.should_see("无权限")
    await user.should_not_see("新建接入系统")
