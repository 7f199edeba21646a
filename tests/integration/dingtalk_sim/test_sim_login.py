"""In-app auth codes, QR (sns) login with the HMAC signature, OAuth2 user tokens."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import time
from urllib.parse import quote

import aiohttp
from sim_helpers import APPKEY, APPSECRET, CORPID, Api

from app.dingtalk.simulator import SimulatorHandle


def sns_signature(secret: str, timestamp: str) -> str:
    return base64.b64encode(hmac.new(secret.encode(), timestamp.encode(), hashlib.sha256).digest()).decode()


def test_sns_signature_matches_reference_vector() -> None:
    assert sns_signature("testappSecret", "1546084445901") == "HCbG3xNE3vzhO+u7qCUL1jS5hsu2n5r2cFhnTrtyDAE="


async def admin_userid(api: Api) -> str:
    return (await api.post("/topapi/user/listadmin"))["result"][0]["userid"]


async def code_for(api: Api, userid: str, kind: str) -> str:
    return (await api.control("POST", f"/corps/{CORPID}/login_codes", {"userid": userid, "kind": kind}))["code"]


async def test_auth_code_is_one_shot(sim: SimulatorHandle, api: Api) -> None:
    userid = await admin_userid(api)
    code = await code_for(api, userid, "auth")
    first = await api.post("/topapi/v2/user/getuserinfo", {"code": code})
    assert first["errcode"] == 0
    assert first["result"]["userid"] == userid and first["result"]["sys"] is True and first["result"]["sys_level"] == 1
    again = await api.post("/topapi/v2/user/getuserinfo", {"code": code})
    assert again["errcode"] == 40078
    legacy_code = await code_for(api, userid, "auth")
    legacy = await api.get("/user/getuserinfo", {"code": legacy_code})
    assert legacy["errcode"] == 0 and legacy["userid"] == userid and legacy["is_sys"] is True
    assert (await api.get("/user/getuserinfo", {"code": legacy_code}))["errcode"] == 40078


async def test_auth_code_expires(sim: SimulatorHandle, api: Api) -> None:
    await api.control("POST", "/config", {"code_ttl": 10})  # 10 s x 0.01 = 0.1 s
    code = await code_for(api, await admin_userid(api), "auth")
    await asyncio.sleep(0.2)
    assert (await api.post("/topapi/v2/user/getuserinfo", {"code": code}))["errcode"] == 40078


async def sns_call(
    http: aiohttp.ClientSession, base: str, code: str, *, timestamp: str | None = None, encode: bool = True,
    secret: str = APPSECRET, access_key: str = APPKEY,
) -> dict:  # fmt: skip
    timestamp = timestamp or str(int(time.time() * 1000))
    signature = sns_signature(secret, timestamp)
    value = quote(signature, safe="") if encode else signature
    url = f"{base}/sns/getuserinfo_bycode?accessKey={access_key}&timestamp={timestamp}&signature={value}"
    async with http.post(aiohttp.client.URL(url, encoded=True), json={"tmp_auth_code": code}) as r:
        return await r.json()


async def test_qr_login_signature_rules(sim: SimulatorHandle, api: Api, http: aiohttp.ClientSession) -> None:
    userid = await admin_userid(api)
    user = (await api.post("/topapi/v2/user/get", {"userid": userid}))["result"]
    # Find a timestamp whose signature contains characters that need URL-encoding.
    now = int(time.time() * 1000)
    stamp = next(str(t) for t in range(now, now + 500) if "+" in sns_signature(APPSECRET, str(t)))
    code = await code_for(api, userid, "sns")
    unencoded = await sns_call(http, sim.base_url, code, timestamp=stamp, encode=False)
    assert unencoded["errcode"] == 853004
    code = await code_for(api, userid, "sns")
    body = await sns_call(http, sim.base_url, code, timestamp=stamp)
    assert body["errcode"] == 0
    assert body["user_info"]["unionid"] == user["unionid"] and body["user_info"]["nick"] == user["name"]
    assert (await sns_call(http, sim.base_url, code))["errcode"] == 40078  # one-shot
    stale = str(int(time.time() * 1000) - 120_000)
    assert (await sns_call(http, sim.base_url, code, timestamp=stale))["errcode"] == 853002
    assert (await sns_call(http, sim.base_url, code, timestamp="12345"))["errcode"] == 853001
    assert (await sns_call(http, sim.base_url, code, access_key="nobody"))["errcode"] == 853003
    assert (await sns_call(http, sim.base_url, code, secret="wrong"))["errcode"] == 853004
    # unionid -> userid with the app token.
    mapped = await api.post("/topapi/user/getbyunionid", {"unionid": body["user_info"]["unionid"]})
    assert mapped["result"]["userid"] == userid


async def test_oauth2_user_token_and_me(sim: SimulatorHandle, api: Api, http: aiohttp.ClientSession) -> None:
    userid = await admin_userid(api)
    # The browser step: the simulated login page redirects with authCode and state.
    async with http.get(
        f"{sim.base_url}/oauth2/auth",
        params={"client_id": APPKEY, "redirect_uri": "http://app.local/cb", "state": "xyz", "userid": userid},
        allow_redirects=False,
    ) as r:
        assert r.status == 302
        location = aiohttp.client.URL(r.headers["Location"])
    assert location.host == "app.local" and location.query["state"] == "xyz"
    code = location.query["authCode"]
    payload = {"clientId": APPKEY, "clientSecret": APPSECRET, "code": code, "grantType": "authorization_code"}
    async with http.post(f"{sim.base_url}/v1.0/oauth2/userAccessToken", json=payload) as r:
        assert r.status == 200
        tokens = await r.json()
    assert tokens["expireIn"] == 7200 and tokens["refreshToken"] and tokens["corpId"] == CORPID
    async with http.post(f"{sim.base_url}/v1.0/oauth2/userAccessToken", json=payload) as r:
        assert r.status == 400  # code already used
    headers = {"x-acs-dingtalk-access-token": tokens["accessToken"]}
    async with http.get(f"{sim.base_url}/v1.0/contact/users/me", headers=headers) as r:
        assert r.status == 200
        me = await r.json()
    user = (await api.post("/topapi/v2/user/get", {"userid": userid}))["result"]
    assert me["unionId"] == user["unionid"] and me["nick"] == user["name"] and me["mobile"] == user["mobile"]
    # An app token is not a user token.
    async with http.get(
        f"{sim.base_url}/v1.0/contact/users/me", headers={"x-acs-dingtalk-access-token": await api.token()}
    ) as r:
        assert r.status == 400
    refresh = {"clientId": APPKEY, "clientSecret": APPSECRET, "refreshToken": tokens["refreshToken"]}
    async with http.post(
        f"{sim.base_url}/v1.0/oauth2/userAccessToken", json={**refresh, "grantType": "refresh_token"}
    ) as r:
        assert r.status == 200 and (await r.json())["accessToken"] != tokens["accessToken"]
