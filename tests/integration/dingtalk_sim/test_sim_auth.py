"""Tokens, IP allow-list, QPS throttling and gateway-level answers."""

from __future__ import annotations

import asyncio

import aiohttp
from sim_helpers import APPKEY, APPKEY2, APPSECRET, APPSECRET2, Api

from app.dingtalk.simulator import SimulatorHandle


async def gettoken(http: aiohttp.ClientSession, base: str, appkey: str, appsecret: str) -> dict:
    async with http.get(f"{base}/gettoken", params={"appkey": appkey, "appsecret": appsecret}) as r:
        assert r.status == 200
        return await r.json()


async def test_gettoken_returns_same_token_while_valid(sim: SimulatorHandle, http: aiohttp.ClientSession) -> None:
    first = await gettoken(http, sim.base_url, APPKEY, APPSECRET)
    assert first["errcode"] == 0 and first["errmsg"] == "ok"
    assert first["expires_in"] == 7200 and len(first["access_token"]) >= 16
    again = await gettoken(http, sim.base_url, APPKEY, APPSECRET)
    assert again["access_token"] == first["access_token"]
    other = await gettoken(http, sim.base_url, APPKEY2, APPSECRET2)
    assert other["access_token"] != first["access_token"]


async def test_bad_credentials(sim: SimulatorHandle, http: aiohttp.ClientSession) -> None:
    body = await gettoken(http, sim.base_url, APPKEY, "wrong")
    assert body["errcode"] == 40089 and "access_token" not in body
    body = await gettoken(http, sim.base_url, "nosuchapp", APPSECRET)
    assert body["errcode"] == 40089


async def test_missing_unknown_and_expired_token(sim: SimulatorHandle, api: Api) -> None:
    async with api.http.post(f"{sim.base_url}/topapi/v2/department/listsub", json={"dept_id": 1}) as r:
        body = await r.json()
    assert body["errcode"] == 40014 and "request_id" in body
    assert (await api.post("/topapi/v2/department/listsub", {"dept_id": 1}, token="bogus"))["errcode"] == 40014

    await api.control("POST", "/config", {"token_ttl": 20})  # 20 s x 0.01 = 0.2 s of real time
    api.tokens.clear()
    token = await api.token()
    assert (await api.post("/topapi/v2/department/listsub", {"dept_id": 1}, token=token))["errcode"] == 0
    await asyncio.sleep(0.3)
    assert (await api.post("/topapi/v2/department/listsub", {"dept_id": 1}, token=token))["errcode"] == 42001
    # After expiry gettoken hands out a new token.
    api.tokens.clear()
    assert await api.token() != token


async def test_expire_tokens_on_demand(sim: SimulatorHandle, api: Api) -> None:
    token = await api.token()
    result = await api.control("POST", "/tokens/expire", {"appkey": APPKEY})
    assert result["expired"] == 1
    assert (await api.get("/user/get", {"userid": "x"}, token=token))["errcode"] == 42001


async def test_v1_access_token_and_header_auth(sim: SimulatorHandle, http: aiohttp.ClientSession) -> None:
    async with http.post(
        f"{sim.base_url}/v1.0/oauth2/accessToken", json={"appKey": APPKEY, "appSecret": APPSECRET}
    ) as r:
        assert r.status == 200
        body = await r.json()
    assert body["expireIn"] == 7200
    # Same app token as gettoken, usable as oapi access_token.
    legacy = await gettoken(http, sim.base_url, APPKEY, APPSECRET)
    assert legacy["access_token"] == body["accessToken"]
    async with http.post(f"{sim.base_url}/v1.0/oauth2/accessToken", json={"appKey": APPKEY, "appSecret": "nope"}) as r:
        assert r.status == 400
    async with http.post(
        f"{sim.base_url}/v1.0/todo/users/x/tasks", headers={"x-acs-dingtalk-access-token": "bad"}, json={}
    ) as r:
        assert r.status == 400
        err = await r.json()
    assert err["code"] == "InvalidAuthentication" and err["message"] and err["requestid"]


async def test_ip_allow_list(sim: SimulatorHandle, api: Api, http: aiohttp.ClientSession) -> None:
    token = await api.token()
    await api.control("PUT", "/corps/dingcorp0001/ip_allowlist", {"ips": ["10.1.2.3"]})
    body = await api.post("/topapi/v2/department/listsub", {"dept_id": 1}, token=token)
    assert body["errcode"] == 60020
    assert "访问ip不在白名单之中" in body["errmsg"] and "request ip=127.0.0.1" in body["errmsg"]
    assert f"appKey({APPKEY})" in body["errmsg"]
    assert (await gettoken(http, sim.base_url, APPKEY, APPSECRET))["errcode"] == 60020
    # Another app of the simulator is not affected.
    assert (await gettoken(http, sim.base_url, APPKEY2, APPSECRET2))["errcode"] == 0
    await api.control("PUT", "/corps/dingcorp0001/ip_allowlist", {"ips": ["10.1.2.3", "127.0.0.1"]})
    assert (await api.post("/topapi/v2/department/listsub", {"dept_id": 1}, token=token))["errcode"] == 0


async def test_qps_limit_per_app_per_api(sim: SimulatorHandle, api: Api) -> None:
    await api.control("POST", "/config", {"qps": 5})
    token = await api.token()
    bodies = await asyncio.gather(
        *(api.post("/topapi/v2/department/listsub", {"dept_id": 1}, token=token) for _ in range(12))
    )
    codes = sorted(b["errcode"] for b in bodies)
    assert codes.count(0) == 5 and codes.count(90018) == 7
    # A different API has its own budget.
    assert (await api.post("/topapi/v2/department/get", {"dept_id": 1}, token=token))["errcode"] == 0
    await asyncio.sleep(1.05)
    assert (await api.post("/topapi/v2/department/listsub", {"dept_id": 1}, token=token))["errcode"] == 0
    counters = await api.control("GET", "/counters")
    assert counters["calls"]["/topapi/v2/department/listsub"] == 13
    assert counters["errors"]["/topapi/v2/department/listsub"]["90018"] == 7
    assert counters["by_app"][APPKEY]["/topapi/v2/department/listsub"] == 6


async def test_per_api_qps_override(sim: SimulatorHandle, api: Api) -> None:
    await api.control("POST", "/config", {"qps": 100, "qps_per_api": {"/topapi/v2/user/get": 1}})
    first = await api.post("/topapi/v2/user/get", {"userid": "nobody"})
    second = await api.post("/topapi/v2/user/get", {"userid": "nobody"})
    assert first["errcode"] == 60121 and second["errcode"] == 90018


async def test_wrong_method_and_unknown_api(sim: SimulatorHandle, api: Api, http: aiohttp.ClientSession) -> None:
    token = await api.token()
    async with http.get(f"{sim.base_url}/topapi/v2/user/get", params={"access_token": token}) as r:
        assert (await r.json())["errcode"] == 43002
    async with http.post(f"{sim.base_url}/topapi/app/remove_auth", params={"access_token": token}) as r:
        body = await r.json()
    assert body["errcode"] == 22 and "dingtalk.oapi.app.remove_auth" in body["sub_msg"]


async def test_transient_faults(sim: SimulatorHandle, api: Api, http: aiohttp.ClientSession) -> None:
    token = await api.token()
    await api.control("POST", "/faults/transient", {"apis": ["/topapi/v2/department/*"], "errors": [502], "count": 1})
    async with http.post(
        f"{sim.base_url}/topapi/v2/department/get", params={"access_token": token}, json={"dept_id": 1}
    ) as r:
        assert r.status == 502 and "html" in r.content_type
    assert (await api.post("/topapi/v2/department/get", {"dept_id": 1}))["errcode"] == 0
    await api.control("POST", "/faults/transient", {"errors": [-1, 90018], "rate": 1.0, "count": 2})
    codes = {(await api.post("/topapi/v2/department/get", {"dept_id": 1}))["errcode"] for _ in range(2)}
    assert codes <= {-1, 90018} and codes
    assert (await api.post("/topapi/v2/department/get", {"dept_id": 1}))["errcode"] == 0
    await api.control("POST", "/faults/latency", {"apis": ["/topapi/v2/department/get"], "ms": 150})
    loop = asyncio.get_running_loop()
    started = loop.time()
    await api.post("/topapi/v2/department/get", {"dept_id": 1})
    assert loop.time() - started >= 0.14
    await api.control("DELETE", "/faults")
    assert (await api.control("GET", "/faults"))["latency"] == []


async def test_topapi_accepts_form_bodies(sim: SimulatorHandle, api: Api, http: aiohttp.ClientSession) -> None:
    token = await api.token()
    form = {"name": "表单部门", "parent_id": "1", "create_dept_group": "false"}
    async with http.post(f"{sim.base_url}/topapi/v2/department/create", params={"access_token": token}, data=form) as r:
        created = await r.json()
    assert created["errcode"] == 0 and "表单部门" not in str(created)
    async with http.post(
        f"{sim.base_url}/topapi/v2/department/get", params={"access_token": token}, data={"dept_id": "1"}
    ) as r:
        raw = await r.text()
    # Chinese comes back as UTF-8 text, not \u escapes, like DingTalk's own answers.
    assert '"errcode": 0' in raw or '"errcode":0' in raw
    assert "蓝钉" in raw
