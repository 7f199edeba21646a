"""Transport behaviour against canned HTTP responses: retries, token refresh, envelopes, paging, signatures."""

from __future__ import annotations

import asyncio
import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

import aiohttp
import pytest
from aioresponses import aioresponses
from yarl import URL

from app.dingtalk.auth_api import sns_signature
from app.dingtalk.client import App, DingTalkClient
from app.dingtalk.errors import DingTalkAPIError, DingTalkTransportError

OAPI = "http://oapi.test"  # matches the client fixture in conftest.py
API = "http://api.test"
GETTOKEN = re.compile(rf"{OAPI}/gettoken\?.*")


def _token(mocked: aioresponses, token: str = "tok1", repeat: bool = True) -> None:
    mocked.get(
        GETTOKEN, payload={"errcode": 0, "errmsg": "ok", "access_token": token, "expires_in": 7200}, repeat=repeat
    )


def _calls(mocked: aioresponses, method: str, prefix: str) -> list[Any]:
    return [
        call
        for (m, url), calls in mocked.requests.items()
        if m == method and str(url).startswith(prefix)
        for call in calls
    ]


def _urls(mocked: aioresponses, method: str, prefix: str) -> list[URL]:
    return [
        url for (m, url), calls in mocked.requests.items() if m == method and str(url).startswith(prefix) for _ in calls
    ]


def _path(path: str) -> re.Pattern[str]:
    return re.compile(rf"{OAPI}{re.escape(path)}\?.*")


async def test_success_returns_envelope_and_uses_the_token(
    client: DingTalkClient, app: App, mocked: aioresponses
) -> None:
    _token(mocked)
    mocked.post(
        _path("/topapi/v2/user/get"),
        payload={
            "errcode": 0,
            "errmsg": "ok",
            "request_id": "r",
            "result": {"userid": "u1", "name": "张三", "dept_id_list": [1, 2], "unionid": "un1", "boss": "false"},
        },
    )
    user = await client.contacts.get_user(app, "u1")
    assert (user.userid, user.name, user.dept_id_list, user.unionid, user.boss) == ("u1", "张三", [1, 2], "un1", False)
    [call] = _calls(mocked, "POST", f"{OAPI}/topapi/v2/user/get")
    assert call.kwargs["json"] == {"userid": "u1"}
    [url] = _urls(mocked, "POST", f"{OAPI}/topapi/v2/user/get")
    assert url.query["access_token"] == "tok1"


async def test_http_502_is_retried(client: DingTalkClient, app: App, mocked: aioresponses) -> None:
    _token(mocked)
    mocked.post(_path("/topapi/v2/user/delete"), status=502, body="<html>Bad Gateway</html>")
    mocked.post(_path("/topapi/v2/user/delete"), status=503, body="")
    mocked.post(_path("/topapi/v2/user/delete"), payload={"errcode": 0, "errmsg": "ok"})
    await client.contacts.delete_user(app, "u1")
    assert client.transport.stats["retries"] == 2


async def test_timeouts_and_connection_resets_are_retried(
    client: DingTalkClient, app: App, mocked: aioresponses
) -> None:
    _token(mocked)
    mocked.post(_path("/topapi/v2/department/delete"), exception=TimeoutError())
    mocked.post(_path("/topapi/v2/department/delete"), exception=aiohttp.ClientOSError(104, "Connection reset"))
    mocked.post(_path("/topapi/v2/department/delete"), exception=aiohttp.ServerDisconnectedError())
    mocked.post(_path("/topapi/v2/department/delete"), payload={"errcode": 0})
    await client.contacts.delete_department(app, 5)
    assert client.transport.stats["retries"] == 3


async def test_retries_are_bounded(client: DingTalkClient, app: App, mocked: aioresponses) -> None:
    _token(mocked)
    mocked.post(_path("/topapi/v2/user/delete"), status=502, body="down", repeat=True)
    with pytest.raises(DingTalkTransportError) as info:
        await client.contacts.delete_user(app, "u1")
    assert info.value.status == 502 and info.value.is_transient
    assert len(_calls(mocked, "POST", f"{OAPI}/topapi/v2/user/delete")) == client.transport.max_retries + 1


@pytest.mark.parametrize("errcode", [-1, 90018, 90002, 90006])
async def test_transient_errcodes_are_retried(
    client: DingTalkClient, app: App, mocked: aioresponses, errcode: int
) -> None:
    _token(mocked)
    mocked.post(_path("/topapi/v2/user/delete"), payload={"errcode": errcode, "errmsg": "busy"})
    mocked.post(_path("/topapi/v2/user/delete"), payload={"errcode": 0, "errmsg": "ok"})
    await client.contacts.delete_user(app, "u1")
    assert client.transport.stats["retries"] == 1


async def test_permanent_errcode_raises_at_once_with_meaning(
    client: DingTalkClient, app: App, mocked: aioresponses
) -> None:
    _token(mocked)
    mocked.post(_path("/topapi/v2/user/get"), payload={"errcode": 60121, "errmsg": "找不到该用户", "request_id": "rq"})
    with pytest.raises(DingTalkAPIError) as info:
        await client.contacts.get_user(app, "ghost")
    assert info.value.errcode == 60121 and info.value.request_id == "rq"
    assert info.value.path == "/topapi/v2/user/get"
    assert "找不到该用户" in info.value.meaning
    assert client.transport.stats["retries"] == 0


async def test_non_json_200_is_a_non_transient_transport_error(
    client: DingTalkClient, app: App, mocked: aioresponses
) -> None:
    _token(mocked)
    mocked.post(_path("/topapi/v2/user/get"), status=200, body="<html>captive portal</html>")
    with pytest.raises(DingTalkTransportError) as info:
        await client.contacts.get_user(app, "u1")
    assert not info.value.is_transient
    assert client.transport.stats["retries"] == 0


async def test_flood_ban_body_is_transient_with_wait(client: DingTalkClient, app: App, mocked: aioresponses) -> None:
    client.transport.max_retries = 0
    _token(mocked)
    mocked.post(
        _path("/topapi/v2/user/get"), payload={"status": 1111, "wait": 5, "source": "x5", "punish": "deny", "uuid": "x"}
    )
    with pytest.raises(DingTalkTransportError) as info:
        await client.contacts.get_user(app, "u1")
    assert info.value.is_transient and info.value.retry_after == 5


async def test_token_error_refreshes_and_retries_once(client: DingTalkClient, app: App, mocked: aioresponses) -> None:
    mocked.get(GETTOKEN, payload={"errcode": 0, "access_token": "old", "expires_in": 7200})
    mocked.get(GETTOKEN, payload={"errcode": 0, "access_token": "new", "expires_in": 7200})
    mocked.post(_path("/topapi/v2/user/delete"), payload={"errcode": 42001, "errmsg": "access_token超时"})
    mocked.post(_path("/topapi/v2/user/delete"), payload={"errcode": 0})
    await client.contacts.delete_user(app, "u1")
    tokens = [u.query["access_token"] for u in _urls(mocked, "POST", f"{OAPI}/topapi/v2/user/delete")]
    assert sorted(tokens) == ["new", "old"]
    assert client.transport.stats["token_fetches"] == 2 and client.transport.stats["token_refreshes"] == 1


async def test_token_error_twice_surfaces(client: DingTalkClient, app: App, mocked: aioresponses) -> None:
    _token(mocked)
    mocked.post(
        _path("/topapi/v2/user/delete"), payload={"errcode": 40014, "errmsg": "不合法的access_token"}, repeat=True
    )
    with pytest.raises(DingTalkAPIError) as info:
        await client.contacts.delete_user(app, "u1")
    assert info.value.errcode == 40014
    assert len(_calls(mocked, "POST", f"{OAPI}/topapi/v2/user/delete")) == 2


async def test_bad_credentials_on_gettoken_are_not_retried(
    client: DingTalkClient, app: App, mocked: aioresponses
) -> None:
    mocked.get(GETTOKEN, payload={"errcode": 40089, "errmsg": "不合法的corpId或corpSecret"}, repeat=True)
    with pytest.raises(DingTalkAPIError) as info:
        await client.contacts.get_user(app, "u1")
    assert info.value.errcode == 40089
    assert len(_calls(mocked, "GET", f"{OAPI}/gettoken")) == 1


async def test_concurrent_callers_share_one_token_fetch(client: DingTalkClient, app: App, mocked: aioresponses) -> None:
    _token(mocked)
    mocked.post(_path("/topapi/v2/user/delete"), payload={"errcode": 0}, repeat=True)
    await asyncio.gather(*(client.contacts.delete_user(app, f"u{i}") for i in range(20)))
    assert len(_calls(mocked, "GET", f"{OAPI}/gettoken")) == 1
    # Cached afterwards too.
    assert await client.transport.get_access_token(app) == "tok1"
    assert len(_calls(mocked, "GET", f"{OAPI}/gettoken")) == 1


async def test_v1_error_shape_and_header_token(client: DingTalkClient, app: App, mocked: aioresponses) -> None:
    _token(mocked)
    url = re.compile(rf"{API}/v1\.0/todo/users/un1/tasks.*")
    mocked.post(url, status=400, payload={"code": "InvalidAuthentication", "requestid": "R1", "message": "不合法"})
    mocked.post(
        url, status=400, payload={"code": "todo.taskCreate.paramError", "requestid": "R2", "message": "task exist"}
    )
    with pytest.raises(DingTalkAPIError) as info:
        await client.notify.create_todo(app, "un1", subject="审批", source_id="s1")
    assert info.value.errcode == "todo.taskCreate.paramError" and info.value.errmsg == "task exist"
    assert info.value.http_status == 400 and info.value.request_id == "R2"
    calls = _calls(mocked, "POST", f"{API}/v1.0/todo/users/un1/tasks")
    assert len(calls) == 2  # one token refresh in between
    assert calls[0].kwargs["headers"]["x-acs-dingtalk-access-token"] == "tok1"
    assert calls[0].kwargs["json"] == {"subject": "审批", "sourceId": "s1"}


async def test_v1_5xx_is_retried(client: DingTalkClient, app: App, mocked: aioresponses) -> None:
    _token(mocked)
    url = re.compile(rf"{API}/v1\.0/todo/users/un1/tasks/t1.*")
    mocked.delete(url, status=500, payload={"code": "systemError", "message": "boom"})
    mocked.delete(url, status=200, payload={"result": True, "requestId": "x"})
    assert await client.notify.delete_todo(app, "un1", "t1") is True


async def test_user_list_follows_the_cursor(client: DingTalkClient, app: App, mocked: aioresponses) -> None:
    _token(mocked)
    pages = [
        {"has_more": True, "next_cursor": 100, "list": [{"userid": f"u{i}"} for i in range(100)]},
        {"has_more": "true", "next_cursor": 200, "list": [{"userid": f"u{i}"} for i in range(100, 200)]},
        {"has_more": False, "list": [{"userid": f"u{i}"} for i in range(200, 250)]},
    ]
    for page in pages:
        mocked.post(_path("/topapi/v2/user/list"), payload={"errcode": 0, "result": page})
    users = await client.contacts.list_dept_users(app, 7)
    assert [u.userid for u in users] == [f"u{i}" for i in range(250)]
    cursors = [c.kwargs["json"]["cursor"] for c in _calls(mocked, "POST", f"{OAPI}/topapi/v2/user/list")]
    assert sorted(cursors) == [0, 100, 200]


async def test_user_list_refuses_a_stuck_cursor(client: DingTalkClient, app: App, mocked: aioresponses) -> None:
    _token(mocked)
    mocked.post(_path("/topapi/v2/user/list"), payload={"errcode": 0, "result": {"has_more": True, "list": []}})
    with pytest.raises(DingTalkTransportError):
        await client.contacts.list_dept_users(app, 7)


async def test_sns_signature_vector_and_query_encoding(client: DingTalkClient, mocked: aioresponses) -> None:
    assert sns_signature("testappSecret", 1546084445901) == "HCbG3xNE3vzhO+u7qCUL1jS5hsu2n5r2cFhnTrtyDAE="
    mocked.post(
        re.compile(rf"{OAPI}/sns/getuserinfo_bycode\?.*"),
        payload={"errcode": 0, "user_info": {"nick": "张三", "unionid": "un1", "openid": "op1"}},
    )
    info = await client.login.get_sns_user_by_code("scanAppId", "scanSecret", "tmpcode")
    assert (info.nick, info.unionid) == ("张三", "un1")
    [url] = _urls(mocked, "POST", f"{OAPI}/sns/getuserinfo_bycode")
    raw = parse_qs(urlsplit(str(url)).query)
    assert raw["accessKey"] == ["scanAppId"]
    assert raw["signature"] == [sns_signature("scanSecret", raw["timestamp"][0])]
    assert "gettoken" not in str(mocked.requests)


def test_backoff_is_bounded_and_jittered(client: DingTalkClient) -> None:
    client.transport.backoff_base, client.transport.backoff_max, client.transport.throttle_wait = 0.2, 2.0, 1.0
    for attempt in range(10):
        delay = client.transport._backoff(attempt)
        ceiling = min(2.0, 0.2 * 2**attempt)
        assert ceiling / 2 <= delay <= ceiling
    assert client.transport._backoff(0, throttled=True) >= 1.0
    assert client.transport._backoff(0, retry_after=5) == 5
