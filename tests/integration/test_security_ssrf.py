"""No SSRF through a URL an access system or an admin sets (issue 13, item 2), over real loopback HTTP.

The autouse fixture in tests/conftest.py allows 127.0.0.0/8 for the simulators; these tests take that away
(``no_loopback``) and show that the console then refuses every spelling of an internal address, both when the URL
is set and when a notification would be delivered, and that an admin's allowed range opens exactly that range.
"""

from __future__ import annotations

import asyncio
import logging

import aiohttp
import pytest
from aiohttp import web

from app.core import change_tracking, net_guard
from app.models.access import AccessSystem, Notification
from app.services import access_systems, mapping_feed, security_settings
from app.services.access_systems import SystemInput
from tests import factories
from tests.integration.access_support import console, free_port, org_admin, receiver

PASSWORD = "test12345678"
SECRET_BODY = "INTERNAL-ADMIN-PAGE-ssh-key-AAAAB3Nza"
INTERNAL = [
    "http://127.0.0.1:8080/",
    "http://[::1]/",
    "http://0x7f000001/",
    "http://2130706433/",
    "http://0177.0.0.1/",
    "http://127.1/",
    "http://localhost:8080/admin",
    "http://LOCALHOST./",
    "http://169.254.169.254/latest/meta-data/",
    "http://[::ffff:127.0.0.1]/",
    "http://[::ffff:a9fe:a9fe]/",
    "http://[64:ff9b::a9fe:a9fe]/",
    "http://[fe80::1]/",
    "http://[fd00::1]/",
    "http://10.1.2.3/",
    "http://172.16.0.1/",
    "http://192.168.1.1/",
    "http://100.64.0.1/",
    "http://0.0.0.0/",
    "http://224.0.0.1/",
    "http://240.0.0.1/",
]


@pytest.fixture
def no_loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LANDING_OUTBOUND_ALLOWED_RANGES", "")
    security_settings.forget_cache()


@pytest.fixture(autouse=True)
def quick_settle(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(mapping_feed, "SETTLE_MS", 0)


async def _system(org) -> int:
    return await access_systems.save_system(
        await org_admin(org),
        None,
        SystemInput(name="EKP", identifier="ekptest0001", auth_account="testuser", auth_password=PASSWORD),
    )


async def test_bind_refuses_every_internal_notify_url(orm, tmp_path, no_loopback) -> None:
    org = await factories.org("叮当科技", "dingcorpA", is_main=True)
    system_id = await _system(org)
    async with console(tmp_path) as base, aiohttp.ClientSession() as http:
        for url in INTERNAL:
            access_systems.bind_limiter.reset()
            async with http.post(
                f"{base}/api/v1/access/bind", json={"identifier": "ekptest0001", "notifyUrl": url}
            ) as response:
                body = await response.json()
                assert response.status == 400, (url, body)
                assert "不允许访问" in body["errmsg"], (url, body)
    assert (await AccessSystem.get(id=system_id)).notify_url == ""


async def test_a_stored_internal_url_is_never_called(orm, tmp_path, no_loopback, caplog) -> None:
    """A notify URL saved before this check existed (or written into the database) is refused at delivery."""
    org = await factories.org("叮当科技", "dingcorpA", is_main=True)
    system_id = await _system(org)
    async with receiver() as rec, console(tmp_path):
        await AccessSystem.filter(id=system_id).update(notify_url=rec.url)
        await change_tracking.contacts_changed(org.id, "contacts.person.update", {"person_ids": [1]})
        note = await _first_attempt(system_id)
        assert rec.received == []  # the console never connected
        assert "不允许访问本机地址" in note.last_error


async def _first_attempt(system_id: int, within: float = 20.0) -> Notification:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while loop.time() < deadline:
        note = await Notification.filter(system_id=system_id).first()
        if note is not None and note.attempts >= 1:
            return note
        await asyncio.sleep(0.1)
    raise AssertionError("the notifier made no attempt")


async def test_redirects_are_not_followed_and_bodies_never_shown_or_logged(orm, tmp_path, caplog) -> None:
    """Loopback allowed (the autouse fixture), so the receiver is reachable; its 302 to an internal page is not."""
    hits: list[str] = []

    async def redirect(request: web.Request) -> web.Response:
        hits.append("notify")
        return web.Response(status=302, headers={"Location": f"{origin}/internal"}, text=SECRET_BODY)

    async def internal(request: web.Request) -> web.Response:
        hits.append("internal")
        return web.Response(status=500, text=SECRET_BODY * 100)

    web_app = web.Application()
    web_app.router.add_post("/notify", redirect)
    web_app.router.add_route("*", "/internal", internal)
    runner = web.AppRunner(web_app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    origin = f"http://127.0.0.1:{port}"
    caplog.set_level(logging.INFO)
    try:
        org = await factories.org("叮当科技", "dingcorpA", is_main=True)
        system_id = await _system(org)
        async with console(tmp_path):
            await AccessSystem.filter(id=system_id).update(notify_url=f"{origin}/notify")
            await change_tracking.contacts_changed(org.id, "contacts.person.update", {"person_ids": [1]})
            note = await _first_attempt(system_id)
            rows = await access_systems.list_systems(await org_admin(org))
    finally:
        await runner.cleanup()
    assert hits == ["notify"]
    assert note.last_error.startswith("HTTP 302") and SECRET_BODY not in note.last_error
    assert SECRET_BODY not in rows[0].last_error
    assert SECRET_BODY not in caplog.text


async def test_an_admin_allowed_range_opens_exactly_that_range(orm, no_loopback) -> None:
    from app.services import accounts

    await accounts.ensure_bootstrap_admin()
    admin = await accounts.load_actor(1)
    net_guard.install_policy(net_guard.Policy(provider=security_settings.allowed_ranges, ttl=0))
    with pytest.raises(net_guard.UnsafeAddress):
        await net_guard.check_url("http://127.0.0.1:9/")
    await security_settings.save(admin, allowed_ranges="127.0.0.1/32", trusted_proxies="", initial_password="fixed")
    assert await net_guard.check_url("http://127.0.0.1:9/") == "http://127.0.0.1:9/"
    with pytest.raises(net_guard.UnsafeAddress):
        await net_guard.check_url("http://127.0.0.2:9/")
    with pytest.raises(net_guard.UnsafeAddress):
        await net_guard.check_url("http://169.254.169.254/")
    from app.services.errors import ValidationFailed

    with pytest.raises(ValidationFailed, match="不能允许全部地址"):
        await security_settings.save(admin, allowed_ranges="0.0.0.0/0", trusted_proxies="", initial_password="fixed")


async def test_the_connector_checks_the_address_it_connects_to(no_loopback) -> None:
    """Also a name that resolves inside (what DNS rebinding relies on) is refused when connecting."""
    net_guard.install_policy(net_guard.Policy())
    async with aiohttp.ClientSession(connector=net_guard.GuardedConnector()) as http:
        for url in ("http://localhost:9/", "http://127.0.0.1:9/", "http://[::1]:9/"):
            with pytest.raises(net_guard.UnsafeAddress):
                async with http.get(url):
                    pass


async def test_the_ekp_sync_address_goes_through_the_same_guard(orm, tmp_path, no_loopback) -> None:
    """同步地址: the EKP client uses the shared session, whose connector refuses loopback unless it is allowed."""
    from cryptography.fernet import Fernet

    from app import runtime
    from app.core.config import Settings
    from app.ekp.org_source import EkpConnectionError, EkpOrgSource, EkpSourceConfig
    from app.ekp.simulator import start_simulator as start_ekp

    ekp = await start_ekp(persons=5, depts=2)
    settings = Settings(data_dir=tmp_path / "data", secret_key=Fernet.generate_key().decode(), session_secret="x" * 32)
    rt = await runtime.start(settings, run_workers=False)
    try:
        source = EkpOrgSource(rt.http, EkpSourceConfig(base_url=ekp.base_url, user="ekp", password="ekp"))
        refused = await source.check_connection()
        assert not refused.ok and isinstance(refused.error, EkpConnectionError)
        assert "不允许访问本机地址" in str(refused.error)
        net_guard.install_policy(net_guard.Policy(["127.0.0.1/32"]))  # what an admin's allowed range does
        assert (await source.check_connection()).ok
    finally:
        await runtime.stop()
        await ekp.close()
