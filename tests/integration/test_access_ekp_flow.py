"""The EKP LanDing component's whole conversation with us over loopback HTTP: bind, pull, notify, pull again."""

from __future__ import annotations

import json

import aiohttp
import pytest

from app.core import change_tracking
from app.models.access import AccessSystem
from app.services import access_notify, access_systems, mapping_feed
from app.services.access_systems import SystemInput
from tests import factories
from tests.integration.access_support import FEED, basic, console, org_admin, receiver, seed_contacts

PASSWORD = "test12345678"


@pytest.fixture(autouse=True)
def quick_settle(monkeypatch: pytest.MonkeyPatch) -> None:
    # The hold-back window only has to exceed a write transaction; a short one keeps the test fast.
    monkeypatch.setattr(mapping_feed, "SETTLE_MS", 300)
    monkeypatch.setattr(access_notify, "POLL_SECONDS", 0.1)


async def _system(org, identifier: str = "ekptest0001", account: str = "testuser") -> int:
    admin = await org_admin(org)
    return await access_systems.save_system(
        admin,
        None,
        SystemInput(
            name="HR系统接入专用",
            identifier=identifier,
            auth_account=account,
            auth_password=PASSWORD,
            scan_appid=f"dingoa-{identifier}",  # one 扫码登录appid per access system
            scan_appsecret="scan-secret-0123456789",
        ),
    )


async def _pull(http: aiohttp.ClientSession, base: str, kind: str, timestamp: int, password: str = PASSWORD):
    async with http.post(
        f"{base}{FEED}/{kind}?timestamp={timestamp}", data="null", headers=basic("testuser", password)
    ) as response:
        return response.status, response.headers, await response.read()


async def test_bind_pull_change_notify_pull(orm, tmp_path) -> None:
    org = await factories.org("蓝钉测试企业3", "dingcorp3", is_main=True)
    data = await seed_contacts(org)
    await _system(org)
    async with receiver() as rec, console(tmp_path) as base, aiohttp.ClientSession() as http:
        # 1. Bind with the identifier, registering the notify URL.
        async with http.post(
            f"{base}/api/v1/access/bind", json={"identifier": "ekptest0001", "notifyUrl": rec.url}
        ) as response:
            assert response.status == 200
            bound = await response.json()
        assert bound["errcode"] == 0
        assert bound["corpId"] == "dingcorp3"
        assert bound["appKey"] == "key-dingcorp3"
        assert bound["appSecret"] == "secret-dingcorp3-0123456789abcdef"
        assert bound["agentId"] == org.agent_id
        assert bound["scanAppId"] == "dingoa-ekptest0001"
        assert bound["scanAppSecret"] == "scan-secret-0123456789"
        assert bound["authAccount"] == "testuser"
        assert bound["authPassword"] == PASSWORD
        assert bound["apiBase"].startswith("http")
        assert bound["notifyUrl"] == rec.url

        # 2. The identifier was single-use.
        async with http.post(f"{base}/api/v1/access/bind", json={"identifier": "ekptest0001"}) as response:
            assert response.status == 409
            refused = await response.json()
        assert refused["errcode"] != 0 and "已被使用" in refused["errmsg"]

        # 3. Full pulls from timestamp 0, exactly as EKP sends them.
        status, headers, raw = await _pull(http, base, "dept", 0)
        assert status == 200 and headers["Content-Type"].startswith("application/json")
        t = data["t"]
        assert json.loads(raw) == {
            "errcode": 0,
            "datas": [{"dingId": "100", "businessId": "ekp-d-rd", "dingIsDel": False, "time": t}],
        }
        status, _, raw = await _pull(http, base, "person", 0)
        people = json.loads(raw)
        assert people == {
            "errcode": 0,
            "datas": [
                {
                    "dingId": "u-zhang",
                    "businessId": "ekp-p-zhang",
                    "dingIsDel": False,
                    "time": t + 2,
                    "loginName": "zhangsan",
                },
                {
                    "dingId": "u-li",
                    "businessId": "13800000002",
                    "dingIsDel": False,
                    "time": t + 3,
                    "mobileNo": "13800000002",
                },
            ],
        }
        cursor = max(item["time"] for item in people["datas"])  # what EKP stores as ldingSynTime

        # 4. A person is disabled, the way a sync or an admin edit records it.
        zhang = data["zhang"]
        zhang.is_active = False
        change_tracking.mark_for_push(zhang)
        change_tracking.touch_feed(zhang)
        await zhang.save()
        await change_tracking.contacts_changed(org.id, "contacts.changed", {"persons": 1})

        # 5. The notification arrives, signed with the 认证密码.
        note = await rec.next()
        message = json.loads(note.body)
        assert message["eventType"] == "contacts.changed"
        assert message["corpId"] == "dingcorp3"
        assert message["nonce"] and message["time"] == int(note.headers["X-LanDing-Timestamp"])
        assert note.headers["X-LanDing-Nonce"] == message["nonce"]
        assert access_notify.verify(note.body, PASSWORD, note.headers["X-LanDing-Signature"])
        assert not access_notify.verify(note.body, "wrong-password", note.headers["X-LanDing-Signature"])

        # 6. Pulling from the stored cursor returns exactly that change.
        _, _, raw = await _pull(http, base, "person", cursor)
        assert json.loads(raw) == {
            "errcode": 0,
            "datas": [
                {
                    "dingId": "u-zhang",
                    "businessId": "ekp-p-zhang",
                    "dingIsDel": True,
                    "time": zhang.feed_time,
                    "loginName": "zhangsan",
                }
            ],
        }
        _, _, raw = await _pull(http, base, "dept", t)
        assert json.loads(raw) == {"errcode": 0, "datas": []}

        # 7. Wrong credentials: 401 with the Basic challenge and an errcode.
        status, headers, raw = await _pull(http, base, "person", 0, password="wrong")
        assert status == 401
        assert headers["WWW-Authenticate"] == 'Basic realm="LanDing"'
        assert json.loads(raw)["errcode"] != 0
        async with http.post(f"{base}{FEED}/person?timestamp=0", data="null") as response:
            assert response.status == 401

    system = await AccessSystem.get(auth_account="testuser")
    assert system.last_pull_at is not None and system.bound_at is not None
    assert system.notify_url == rec.url


async def test_org_info_and_notify_url_with_credentials(orm, tmp_path) -> None:
    org = await factories.org("叮当科技", "dingcorpA", is_main=True)
    await _system(org)
    async with receiver() as rec, console(tmp_path) as base, aiohttp.ClientSession() as http:
        auth = basic("testuser", PASSWORD)
        async with http.get(f"{base}/api/v1/access/org", headers=auth) as response:
            info = await response.json()
        assert response.status == 200
        assert info["errcode"] == 0 and info["orgName"] == "叮当科技" and info["corpId"] == "dingcorpA"
        assert info["agentId"] == org.agent_id and info["notifyUrl"] == ""
        async with http.post(f"{base}/api/v1/access/notify-url", json={"notifyUrl": "ftp://x"}, headers=auth) as r:
            assert r.status == 400 and (await r.json())["errcode"] != 0
        async with http.post(f"{base}/api/v1/access/notify-url", json={"notifyUrl": rec.url}, headers=auth) as r:
            assert r.status == 200 and (await r.json())["notifyUrl"] == rec.url

        # The orgs service calls this after an org's DingTalk configuration changed.
        assert await access_systems.org_config_changed(org.id) == 1
        note = await rec.next()
        assert json.loads(note.body)["eventType"] == "org.changed"
        assert note.headers["X-LanDing-Event"] == "org.changed"
        assert access_notify.verify(note.body, PASSWORD, note.headers["X-LanDing-Signature"])


async def test_bind_refusals(orm, tmp_path) -> None:
    org = await factories.org("叮当科技", "dingcorpA", is_main=True)
    system_id = await _system(org)
    other_id = await _system(org, identifier="walled", account="walled-user")
    await AccessSystem.filter(id=other_id).update(ip_allowlist="10.0.0.0/8\n192.168.1.5")
    async with console(tmp_path) as base, aiohttp.ClientSession() as http:

        async def bind(payload) -> tuple[int, dict]:
            async with http.post(f"{base}/api/v1/access/bind", json=payload) as response:
                return response.status, await response.json()

        status, answer = await bind({"identifier": "no-such-id"})
        assert status == 404 and answer["errcode"] == access_systems.UNKNOWN_IDENTIFIER
        status, answer = await bind({"identifier": "walled"})
        assert status == 403 and "白名单" in answer["errmsg"]
        status, answer = await bind({"nothing": 1})
        assert status == 400 and answer["errcode"] == access_systems.BAD_REQUEST
        status, answer = await bind({"identifier": "ekptest0001"})
        assert status == 200
        status, answer = await bind({"identifier": "ekptest0001"})
        assert status == 409

        # The admin re-arms the identifier: one more bind works, then it is spent again.
        await access_systems.rearm_identifier(await org_admin(org, "admin2"), system_id)
        status, answer = await bind({"identifier": "ekptest0001"})
        assert status == 200 and answer["authAccount"] == "testuser"

        # Ten attempts a minute per address, then 429 with a JSON error.
        statuses = [(await bind({"identifier": f"guess-{i}"}))[0] for i in range(10)]
        assert statuses[-1] == 429 and statuses.count(404) == 10 - statuses.count(429)
        status, answer = await bind({"identifier": "ekptest0001"})
        assert status == 429 and answer["errcode"] == access_systems.TOO_MANY

        # The allow-list also guards the credentials API.
        async with http.get(f"{base}/api/v1/access/org", headers=basic("walled-user", PASSWORD)) as response:
            assert response.status == 403

    from app.models.audit import AuditLog

    actions = [a.action for a in await AuditLog.filter(action__startswith="access.bind").order_by("id")]
    assert actions.count("access.bind") == 2 and actions.count("access.bind_refused") >= 4
