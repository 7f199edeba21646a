"""设置 > 登录认证 and the OpenID Connect round trip exclusive DingTalk makes (guide 3.2.6, reference section 10).

The id_token is checked the way a relying party does: signature against the published JWKS, issuer, audience,
nonce and expiry.
"""

from __future__ import annotations

import time
from urllib.parse import parse_qs, urlsplit

import pytest
from joserfc import jwt
from joserfc.errors import BadSignatureError
from joserfc.jwk import KeySet
from nicegui.testing import User

from app.ekp.simulator import start_simulator as start_ekp
from app.ekp.simulator.state import DEFAULT_PERSON_PASSWORD
from app.models.accounts import Role
from app.models.audit import AuditLog
from app.models.contacts import Person
from app.models.sync import SyncSettings
from app.services import login_auth
from tests import factories
from tests.ui.helpers import login

REDIRECT = "https://login.dingtalk.com/oauth2/oidcCallBack.htm"
ISSUER = "http://console.test"  # LANDING_PUBLIC_BASE_URL of the test environment


async def _enable(user: User, authenticator: str) -> tuple[str, str]:
    """Enable domain-account login on the settings page; returns (client_id, client_secret) as the page shows them."""
    await user.open("/settings/login-auth")
    await user.should_see("在钉钉管理后台填写")
    user.find(marker="enabled").elements.pop().value = True
    user.find(marker="authenticator").elements.pop().value = authenticator
    user.find(marker="save").click()
    await user.should_see(marker="secret-dialog")
    secret = user.find(marker="client-secret").elements.pop().text
    settings = await login_auth.load()
    assert settings.client_secret == secret and settings.enabled
    await user.open("/settings/login-auth")
    client_id = user.find(marker="client-id").elements.pop().text
    await user.should_see(ISSUER + "/oidc/token")
    return client_id, secret


async def _setup(user: User) -> tuple[Person, object]:
    await user.open("/login")
    org = await factories.org("蓝钉测试企业", "corpA", is_main=True)
    root = await org.departments.all().first()
    person = await Person.create(
        org=org, name="张三", main_dept=root, login_name="zhangsan", mobile="13900000001", ding_userid="ding-zs-001"
    )
    await factories.account("root", Role.SUPER_ADMIN)
    await login(user, "root", factories.PASSWORD, expect="欢迎")
    return person, org


async def _authorize(user: User, client_id: str, *, response_type: str = "code", nonce: str = "n-123") -> dict:
    params = {
        "client_id": client_id,
        "redirect_uri": REDIRECT,
        "response_type": response_type,
        "scope": "openid",
        "state": "st-1",
        "nonce": nonce,
    }
    page = await user.http_client.get("/oidc/authorize", params=params)
    assert page.status_code == 200 and "域账号登录" in page.text
    return params


async def _submit(user: User, params: dict, username: str, password: str):
    return await user.http_client.post(
        "/oidc/authorize", data={**params, "username": username, "password": password}, follow_redirects=False
    )


async def _verify(user: User, id_token: str, client_id: str, nonce: str) -> dict:
    discovery = (await user.http_client.get("/.well-known/openid-configuration")).json()
    assert discovery["issuer"] == ISSUER
    keys = KeySet.import_key_set((await user.http_client.get(urlsplit(discovery["jwks_uri"]).path)).json())
    token = jwt.decode(id_token, keys, algorithms=["RS256"])
    registry = jwt.JWTClaimsRegistry(
        iss={"essential": True, "value": ISSUER},
        aud={"essential": True, "value": client_id},
        nonce={"essential": True, "value": nonce},
        sub={"essential": True},
        exp={"essential": True},
    )
    registry.validate(token.claims)
    assert token.claims["exp"] > time.time()
    return token.claims


async def test_oidc_code_flow_round_trip_with_local_accounts(user: User) -> None:
    person, org = await _setup(user)
    await factories.account("zhangsan", Role.DEPT_ADMIN, org)  # a console account with the same login
    client_id, secret = await _enable(user, "local")
    params = await _authorize(user, client_id)
    answer = await _submit(user, params, "zhangsan@test.adingding.com", factories.PASSWORD)
    assert answer.status_code == 302
    location = urlsplit(answer.headers["location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT
    query = parse_qs(location.query)
    assert query["state"] == ["st-1"]
    token_answer = await user.http_client.post(
        "/oidc/token",
        data={"grant_type": "authorization_code", "code": query["code"][0], "redirect_uri": REDIRECT},
        auth=(client_id, secret),
    )
    assert token_answer.status_code == 200, token_answer.text
    claims = await _verify(user, token_answer.json()["id_token"], client_id, "n-123")
    assert claims["sub"] == "ding-zs-001"  # DingTalk matches sub against the userid
    # The code is single-use.
    again = await user.http_client.post(
        "/oidc/token",
        data={"grant_type": "authorization_code", "code": query["code"][0], "redirect_uri": REDIRECT},
        auth=(client_id, secret),
    )
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"
    # A wrong client secret is refused.
    bad = await user.http_client.post(
        "/oidc/token", data={"grant_type": "authorization_code", "code": "x", "redirect_uri": REDIRECT},
        auth=(client_id, "wrong"),
    )  # fmt: skip
    assert bad.status_code == 401
    assert await AuditLog.exists(action="oidc.login.success", object_name="张三")


async def test_oidc_implicit_flow_with_ekp_password_and_key_rotation(user: User) -> None:
    ekp = await start_ekp(persons=20, depts=5)
    try:
        element = next(e for e in ekp.state.elements.values() if getattr(e, "login_name", None))
        person, org = await _setup(user)
        person.login_name = element.login_name
        await person.save()
        await SyncSettings.create(org=org, source_url=ekp.base_url, source_user="ekp", source_password="ekp")
        client_id, _ = await _enable(user, "ekp")
        params = await _authorize(user, client_id, response_type="id_token", nonce="n-ekp")
        wrong = await _submit(user, params, f"{element.login_name}@test.adingding.com", "not-the-password")
        assert wrong.status_code == 401 and "账号或密码错误" in wrong.text
        answer = await _submit(user, params, f"{element.login_name}@test.adingding.com", DEFAULT_PERSON_PASSWORD)
        assert answer.status_code == 302
        fragment = parse_qs(urlsplit(answer.headers["location"]).fragment)
        old_token = fragment["id_token"][0]
        claims = await _verify(user, old_token, client_id, "n-ekp")
        assert claims["sub"] == "ding-zs-001"
        # Rotating the key from the page: new tokens use the new key, the old one still verifies.
        await user.open("/settings/login-auth")
        user.find(marker="rotate-key").click()
        await user.should_see("已轮换签名密钥")
        answer = await _submit(user, params, f"{element.login_name}@test.adingding.com", DEFAULT_PERSON_PASSWORD)
        new_token = parse_qs(urlsplit(answer.headers["location"]).fragment)["id_token"][0]
        await _verify(user, new_token, client_id, "n-ekp")
        await _verify(user, old_token, client_id, "n-ekp")
        assert (
            jwt.decode(new_token, KeySet.import_key_set(await login_auth.jwks())).header["kid"]
            != (jwt.decode(old_token, KeySet.import_key_set(await login_auth.jwks())).header["kid"])
        )
    finally:
        await ekp.close()


async def test_clear_errors_rate_limit_and_audit(user: User) -> None:
    person, org = await _setup(user)
    await factories.account("zhangsan", Role.DEPT_ADMIN, org)
    client_id, _ = await _enable(user, "local")
    params = await _authorize(user, client_id)
    unknown = await _submit(user, params, "nobody@test.adingding.com", "x")
    assert unknown.status_code == 401 and "账号或密码错误" in unknown.text
    domain = await _submit(user, params, "zhangsan@other.com", factories.PASSWORD)
    assert "企业域标识不正确" in domain.text
    person.is_active = False
    await person.save()
    disabled = await _submit(user, params, "zhangsan@test.adingding.com", factories.PASSWORD)
    assert disabled.status_code == 401 and "已停用" in disabled.text
    bad_client = await user.http_client.get(
        "/oidc/authorize",
        params={**params, "client_id": "someone-else"},
    )
    assert bad_client.status_code == 400 and "client_id" in bad_client.text
    for _ in range(4):  # the fifth failure of this (account, address) pair locks the pair
        await _submit(user, params, "zhangsan@test.adingding.com", "wrong")
    blocked = await _submit(user, params, "zhangsan@test.adingding.com", factories.PASSWORD)
    assert "登录失败次数过多" in blocked.text
    assert await AuditLog.filter(action="oidc.login.failed").count() >= 5
    assert await AuditLog.exists(action="oidc.login.blocked")


async def test_forged_token_fails_verification(user: User) -> None:
    person, org = await _setup(user)
    await factories.account("zhangsan", Role.DEPT_ADMIN, org)
    client_id, _ = await _enable(user, "local")
    params = await _authorize(user, client_id, response_type="id_token")
    answer = await _submit(user, params, "zhangsan@test.adingding.com", factories.PASSWORD)
    token = parse_qs(urlsplit(answer.headers["location"]).fragment)["id_token"][0]
    header, payload, signature = token.split(".")
    forged = f"{header}.{payload[:-4]}AAAA.{signature}"
    keys = KeySet.import_key_set(await login_auth.jwks())
    with pytest.raises((BadSignatureError, ValueError)):
        jwt.decode(forged, keys, algorithms=["RS256"])
