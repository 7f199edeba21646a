"""Binding to the console fills the mapping tables; change notifications keep them current."""

from __future__ import annotations

import pytest

from app.connector import runtime
from app.connector.models import DeptMapping, PersonMapping
from app.connector.services import binding, console_api, mapping
from app.connector.services.errors import ConnectorError
from app.models.contacts import Person
from tests.integration.connector.support import IDENTIFIER, wait_until


async def test_bind_fills_mapping_and_a_disabled_person_leaves_it(unbound) -> None:
    world = unbound
    with pytest.raises(ConnectorError) as wrong:
        await world.run(binding.bind(world.console_url, "no-such-identifier", rt=world.rt))
    assert "接入标识" in wrong.value.message
    assert await world.run(binding.current()) is None

    bound = await world.run(binding.bind(world.console_url + "/", IDENTIFIER, rt=world.rt))
    assert bound.corp_id == world.env.org.corpid
    assert bound.notify_url == f"{world.connector_url}/api/lding/notify"
    result = await world.run(mapping.pull(rt=world.rt))
    people = await Person.filter(org=world.env.org, is_active=True).exclude(ding_userid=None).count()
    assert result.persons == people > 0
    rows = await world.run(lambda: PersonMapping.all())
    assert {r.ding_userid for r in rows} <= set(world.env.corp.users)
    assert all(r.name and r.union_id for r in rows), "names and unionIds come from DingTalk"
    assert await world.run(lambda: DeptMapping.all().count()) > 0

    with pytest.raises(ConnectorError) as used:
        await world.run(binding.bind(world.console_url, IDENTIFIER, rt=world.rt))
    assert "已被使用" in used.value.message

    # A person disabled in EKP: the sync disables them, the console notifies, the connector drops the row.
    victim = rows[0]
    await world.env.ekp_sim("POST", f"/elements/{victim.ekp_id}/disable")
    await world.sync()

    async def gone() -> bool:
        return not await world.run(lambda: PersonMapping.filter(ekp_id=victim.ekp_id).exists())

    await wait_until(gone, "the disabled person to leave the person mapping")


async def test_bad_address_and_unreachable_console_change_nothing(unbound) -> None:
    world = unbound
    with pytest.raises(ConnectorError) as bad:
        await world.run(binding.bind("ftp://x", IDENTIFIER, rt=world.rt))
    assert "格式不正确" in bad.value.message
    with pytest.raises(ConnectorError) as down:
        await world.run(binding.bind("http://127.0.0.1:9", IDENTIFIER, rt=world.rt))
    assert "无法连接" in down.value.message
    with pytest.raises(ConnectorError) as not_console:
        await world.run(binding.bind(world.connector_url, IDENTIFIER, rt=world.rt))
    assert "不是蓝钉管理平台" in not_console.value.message
    assert await world.run(binding.current()) is None


@pytest.fixture
def internal_ranges_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    """The connector as installed: no internal range allowed (the suite allows loopback for its simulators)."""
    monkeypatch.setenv("LANDING_CONNECTOR_OUTBOUND_ALLOWED_RANGES", "")


async def test_an_internal_console_address_needs_the_operators_range(internal_ranges_refused, unbound) -> None:
    world = unbound
    for url in (world.console_url, "http://169.254.169.254", "http://0x7f000001:8080", "http://[::1]:8080"):
        with pytest.raises(ConnectorError) as refused:
            await world.run(binding.bind(url, IDENTIFIER, rt=world.rt))
        assert "不允许访问" in refused.value.message, url
        assert "LANDING_CONNECTOR_OUTBOUND_ALLOWED_RANGES" in refused.value.message  # where to allow it
        assert refused.value.field == "console_url"
    assert await world.run(binding.current()) is None

    async def fetch_directly() -> None:  # the session itself refuses, whatever URL reaches it
        await console_api.org(runtime.get().http, world.console_url, "any", "any")

    with pytest.raises(ConnectorError) as direct:
        await world.run(fetch_directly)
    assert "不允许访问" in direct.value.message
