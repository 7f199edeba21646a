"""免登录 and 扫码登录 (legacy sns and OAuth2): the right login name in a ticket that works once."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest

from app.connector.models import PersonMapping
from app.connector.services import options as options_service
from tests.integration.connector.support import basic

BIZ = "http://biz.test/ekp/sso"


@pytest.fixture(autouse=True)
async def logins_on(world):
    opts = await world.run(options_service.load())
    opts.free_login_enabled = opts.scan_login_enabled = True
    opts.sso_redirect_url = BIZ
    await world.run(options_service.save(opts, "1", rt=world.rt))


async def person(world) -> PersonMapping:
    return await world.run(lambda: PersonMapping.exclude(login_name="").order_by("id").first())


async def get(world, url: str):
    async with world.http.get(url, allow_redirects=False) as response:
        return response.status, response.headers.get("Location", ""), await response.text()


async def redeem(world, ticket: str, auth=None):
    async with world.http.post(
        f"{world.connector_url}/api/lding/sso/redeem", json={"ticket": ticket}, headers=auth or basic()
    ) as response:
        return response.status, await response.json()


def ticket_of(location: str) -> str:
    assert location.startswith(BIZ + "?"), location
    return parse_qs(urlparse(location).query)["ldTicket"][0]


async def test_free_login_gives_a_ticket_that_works_once(world) -> None:
    me = await person(world)
    code = (await world.sim("POST", f"/_sim/corps/{world.env.org.corpid}/login_codes", {"userid": me.ding_userid}))[
        "code"
    ]
    status, location, _ = await get(world, f"{world.connector_url}/sso/dingtalk?code={code}")
    assert status == 302
    ticket = ticket_of(location)
    assert await redeem(world, ticket, basic("ekp-todo", "wrong")) == (401, {"errcode": 401, "errmsg": "认证失败"})
    status, answer = await redeem(world, ticket)
    assert status == 200 and answer["loginName"] == me.login_name and answer["dingUserId"] == me.ding_userid
    status, answer = await redeem(world, ticket)
    assert status == 400 and answer["errmsg"] == "票据已使用"
    forged = ticket[:-4] + ("AAAA" if not ticket.endswith("AAAA") else "BBBB")
    assert (await redeem(world, forged))[1]["errmsg"] == "票据无效"

    # The same code a second time (DingTalk codes are single use) and a made-up code: a clear page, no ticket.
    for bad in (code, "forged-code"):
        status, location, text = await get(world, f"{world.connector_url}/sso/dingtalk?code={bad}")
        assert status == 403 and not location and "无法登录" in text


async def test_unmapped_dingtalk_user_gets_a_clear_page(world) -> None:
    added = await world.sim(
        "POST", f"/_sim/corps/{world.env.org.corpid}/users", {"name": "外部顾问", "mobile": "13900009999"}
    )
    code = (await world.sim("POST", f"/_sim/corps/{world.env.org.corpid}/login_codes", {"userid": added["userid"]}))[
        "code"
    ]
    status, location, text = await get(world, f"{world.connector_url}/sso/dingtalk?code={code}")
    assert status == 403 and "人员映射表中没有该人员" in text and not location


@pytest.mark.parametrize("mode", ["sns", "oauth2"])
async def test_scan_login(world, mode: str) -> None:
    opts = await world.run(options_service.load())
    opts.scan_login_mode = mode
    await world.run(options_service.save(opts, "1", rt=world.rt))
    me = await person(world)
    status, to_dingtalk, _ = await get(world, f"{world.connector_url}/sso/scan?target=/km/review")
    assert status == 302 and to_dingtalk.startswith(world.env.ding.base_url)
    assert ("/connect/qrconnect" if mode == "sns" else "/oauth2/auth") in to_dingtalk
    # The simulated QR page: "scanning" as a person redirects back with a one-time code.
    status, back, _ = await get(world, f"{to_dingtalk}&userid={me.ding_userid}")
    assert status == 302 and back.startswith(f"{world.connector_url}/sso/scan/callback")
    status, location, _ = await get(world, back)
    assert status == 302 and "target=%2Fkm%2Freview" in location
    status, answer = await redeem(world, ticket_of(location))
    assert answer["loginName"] == me.login_name

    # A forged state is refused before DingTalk is asked.
    forged = back.replace("state=", "state=x")
    status, location, text = await get(world, forged)
    assert status == 403 and "登录请求无效" in text
