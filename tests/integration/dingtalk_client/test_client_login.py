"""SSO wrappers: in-app code, legacy QR (sns) and OAuth2 user tokens."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest
from dingtalk_client_helpers import login_code

from app.dingtalk.client import App, DingTalkClient
from app.dingtalk.errors import DingTalkAPIError


async def test_in_app_login_code(client: DingTalkClient, app: App, session: aiohttp.ClientSession, sim: Any) -> None:
    await client.contacts.create_user(app, userid="lisi", name="李四", mobile="13811112222", dept_id_list=[1])
    code = await login_code(session, sim, "lisi", "auth")
    info = await client.login.get_login_user(app, code)
    assert info.userid == "lisi" and info.name == "李四" and info.unionid
    with pytest.raises(DingTalkAPIError) as reused:
        await client.login.get_login_user(app, code)
    assert reused.value.errcode == 40078 and reused.value.advice


async def test_qr_login_signature_and_unionid_mapping(
    client: DingTalkClient, app: App, session: aiohttp.ClientSession, sim: Any
) -> None:
    created = await client.contacts.create_user(
        app, userid="wangwu", name="王五", mobile="13811113333", dept_id_list=[1]
    )
    code = await login_code(session, sim, "wangwu", "sns")
    info = await client.login.get_sns_user_by_code(app.appkey, app.appsecret, code)
    assert info.unionid == created.unionid and info.nick == "王五"
    assert (await client.contacts.get_user_by_unionid(app, info.unionid)).userid == "wangwu"

    code2 = await login_code(session, sim, "wangwu", "sns")
    with pytest.raises(DingTalkAPIError) as bad:
        await client.login.get_sns_user_by_code(app.appkey, "wrong-secret", code2)
    assert bad.value.errcode == 853004 and "签名" in bad.value.meaning


async def test_oauth2_user_token_flow(
    client: DingTalkClient, app: App, session: aiohttp.ClientSession, sim: Any
) -> None:
    created = await client.contacts.create_user(
        app, userid="zhaoliu", name="赵六", mobile="13811114444", dept_id_list=[1]
    )
    code = await login_code(session, sim, "zhaoliu", "oauth2")
    token = await client.login.get_user_access_token(app.appkey, app.appsecret, code)
    assert token.access_token and token.refresh_token and token.expire_in and token.corp_id == app.corpid
    assert token.access_token not in repr(token)
    me = await client.login.get_current_user(token.access_token)
    assert me.union_id == created.unionid and me.nick == "赵六" and me.mobile == "13811114444"

    refreshed = await client.login.refresh_user_access_token(app.appkey, app.appsecret, token.refresh_token or "")
    assert (await client.login.get_current_user(refreshed.access_token)).union_id == created.unionid

    with pytest.raises(DingTalkAPIError) as bad:
        await client.login.get_current_user("not-a-token")
    assert bad.value.errcode == "InvalidAuthentication" and bad.value.http_status == 400
