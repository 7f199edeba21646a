"""The 接收通知接口 refuses forged and replayed notifications; interface logs hide secrets and expire; options are
validated before they are saved; 解除绑定 and 重新绑定."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta

import pytest

from app.connector.models import InterfaceLog
from app.connector.services import binding, interface_log, mapping, notify_in
from app.connector.services import options as options_service
from app.connector.services.errors import ConnectorError
from app.models.access import AccessSystem
from tests.integration.connector.support import IDENTIFIER


async def post_notify(world, body: bytes, signature: str) -> tuple[int, dict]:
    async with world.http.post(
        f"{world.connector_url}/api/lding/notify",
        data=body,
        headers={"Content-Type": "application/json", "X-LanDing-Signature": signature},
    ) as response:
        return response.status, await response.json()


async def test_forged_and_replayed_notifications_are_refused(world) -> None:
    bound = await world.run(binding.current())
    body = json.dumps(
        {"eventType": "contacts.changed", "corpId": bound.corp_id, "time": int(time.time() * 1000), "nonce": "n-1"}
    ).encode()
    assert (await post_notify(world, body, "0" * 64))[0] == 401
    good = notify_in.signature(body, bound.auth_password)
    assert await post_notify(world, body, good) == (
        200,
        {"errcode": 0, "errmsg": "ok", "eventType": "contacts.changed"},
    )
    status, answer = await post_notify(world, body, good)
    assert status == 401 and "重复" in answer["errmsg"]
    stale = json.dumps({"eventType": "contacts.changed", "time": int(time.time() * 1000) - 3_600_000, "nonce": "n-2"})
    assert (await post_notify(world, stale.encode(), notify_in.signature(stale.encode(), bound.auth_password)))[
        0
    ] == 401


async def test_logs_hide_secrets_and_are_cleaned_after_the_retention(world) -> None:
    await world.run(mapping.pull(rt=world.rt))
    rows = await world.run(lambda: InterfaceLog.all())
    system = await AccessSystem.get(identifier=IDENTIFIER)
    secrets = {world.env.org.appsecret, system.auth_password}
    assert rows and not any(s in r.request or s in r.response for r in rows for s in secrets)
    bind_row = next(r for r in rows if r.interface == "绑定蓝钉管理平台")
    assert '"appSecret": "***"' in bind_row.response and '"authPassword": "***"' in bind_row.response

    old = datetime.now(UTC) - timedelta(days=31)
    await world.run(InterfaceLog.create(function="待办", interface="发送待办", sent_at=old, returned_at=old))
    opts = await world.run(options_service.load())
    assert opts.log_retention_days == 30
    removed = await world.run(interface_log.clean_up(opts.log_retention_days))
    assert removed == 1
    assert await world.run(lambda: InterfaceLog.filter(sent_at__lt=datetime.now(UTC) - timedelta(days=30)).count()) == 0
    text = await world.run(interface_log.download(function="组织架构"))
    assert "获取人员映射" in text and world.env.org.appsecret not in text


async def test_options_are_validated_before_saving(world) -> None:
    opts = await world.run(options_service.load())
    opts.title_color = "blue"
    with pytest.raises(ConnectorError) as colour:
        await world.run(options_service.save(opts, "100", rt=world.rt))
    assert colour.value.field == "title_color"
    opts.title_color, opts.message_agent_id = "#1e6fd9", ""
    with pytest.raises(ConnectorError) as agent:
        await world.run(options_service.save(opts, "", rt=world.rt))  # 推送到钉钉通知 on and no AgentId anywhere
    assert agent.value.field == "message_agent_id"
    saved = await world.run(options_service.save(opts, "100", rt=world.rt))
    assert saved.title_color == "FF1E6FD9"
    assert (await world.run(options_service.load())).title_color == "FF1E6FD9"


async def test_unbind_then_rebind(world) -> None:
    await world.run(mapping.pull(rt=world.rt))
    await world.run(binding.unbind(rt=world.rt))
    assert await world.run(binding.current()) is None
    assert (await world.run(mapping.counts()))["persons"] == 0
    system = await AccessSystem.get(identifier=IDENTIFIER)
    assert system.notify_url == "", "the console stops notifying an unbound connector"
    system.identifier_used = False  # the admin re-enables the identifier in the console (重新启用)
    await system.save()
    again = await world.run(binding.bind(world.console_url, IDENTIFIER, rt=world.rt))
    assert again.corp_id == world.env.org.corpid
    assert (await world.run(mapping.pull(rt=world.rt, full=True))).persons > 0


async def test_admin_writes_are_audited_without_secrets(world) -> None:
    from app.connector.models import Admin, AuditEntry
    from app.connector.services import accounts

    admin = await world.run(lambda: Admin.get(login="admin"))
    await world.run(accounts.set_api_account("ekp-todo-2", "Another-2026x", admin.id))
    opts = await world.run(options_service.load())
    opts.push_toread = True
    await world.run(options_service.save(opts, "1", admin.id, rt=world.rt))
    rows = await world.run(lambda: AuditEntry.filter(actor="admin").order_by("id"))
    assert [r.action for r in rows] == ["修改待办接口认证账号", "修改集成配置"]
    assert rows[1].detail == {"push_toread": {"before": False, "after": True}}
    assert "Another-2026x" not in json.dumps([r.detail for r in rows])
