"""Domain-account login to the standard (issue 13, item 6), checked with a third-party relying party (Authlib).

Authlib builds the authorisation URL with a PKCE S256 challenge, exchanges the code with its verifier and
validates the id_token against our JWKS; a wrong verifier, a replayed code and ``plain`` are refused; codes and
tokens live in the database, so they survive the process that issued them (another replica, a restart).
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import httpx
from authlib.common.security import generate_token
from authlib.integrations.httpx_client import AsyncOAuth2Client
from nicegui import core
from nicegui.testing import User

from app.models.accounts import Role
from app.models.security import OidcGrant
from tests import factories
from tests.ui.test_login_auth import ISSUER, REDIRECT, _enable, _setup, _submit, _verify


def _client(client_id: str, secret: str) -> AsyncOAuth2Client:
    return AsyncOAuth2Client(
        client_id=client_id,
        client_secret=secret,
        scope="openid",
        redirect_uri=REDIRECT,
        code_challenge_method="S256",
        token_endpoint_auth_method="client_secret_basic",
        transport=httpx.ASGITransport(core.app),
        base_url="http://test",
    )


async def _code(user: User, rp: AsyncOAuth2Client, verifier: str) -> str:
    url, state = rp.create_authorization_url(
        "http://test/oidc/authorize", code_verifier=verifier, nonce="n-pkce", state="st-pkce"
    )
    params = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    assert params["code_challenge_method"] == "S256"
    page = await user.http_client.get("/oidc/authorize", params=params)
    assert page.status_code == 200 and 'name="code_challenge"' in page.text
    answer = await _submit(user, params, "zhangsan@test.adingding.com", factories.PASSWORD)
    assert answer.status_code == 302, answer.text
    query = parse_qs(urlsplit(answer.headers["location"]).query)
    assert query["state"] == [state]
    return query["code"][0]


async def test_authlib_code_flow_with_pkce(user: User) -> None:
    person, org = await _setup(user)
    await factories.account("zhangsan", Role.DEPT_ADMIN, org)
    client_id, secret = await _enable(user, "local")
    async with _client(client_id, secret) as rp:
        verifier = generate_token(64)
        code = await _code(user, rp, verifier)
        assert await OidcGrant.filter(kind="code").count() == 1  # in the database, hashed
        assert not await OidcGrant.filter(token_hash=code).exists()
        token = await rp.fetch_token("http://test/oidc/token", code=code, code_verifier=verifier)
        claims = await _verify(user, token["id_token"], client_id, "n-pkce")  # signature, iss, aud, nonce, exp
        assert claims["iss"] == ISSUER and claims["sub"] == "ding-zs-001"
        info = await rp.get("http://test/oidc/userinfo")
        assert info.status_code == 200 and info.json()["sub"] == "ding-zs-001"

        # The same code again: refused (single use), also with the right verifier.
        again = await user.http_client.post(
            "/oidc/token",
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": REDIRECT,
                "code_verifier": verifier,
            },
            auth=(client_id, secret),
        )
        assert again.status_code == 400 and again.json()["error"] == "invalid_grant"

        # A wrong verifier gets no token, and spends the code.
        code = await _code(user, rp, generate_token(64))
        wrong = await user.http_client.post(
            "/oidc/token",
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": REDIRECT,
                "code_verifier": generate_token(64),
            },
            auth=(client_id, secret),
        )
        assert wrong.status_code == 400 and wrong.json()["error"] == "invalid_grant"
        assert "access_token" not in wrong.json()


async def test_plain_pkce_is_refused(user: User) -> None:
    person, org = await _setup(user)
    client_id, _ = await _enable(user, "local")
    params = {
        "client_id": client_id,
        "redirect_uri": REDIRECT,
        "response_type": "code",
        "scope": "openid",
        "state": "s",
        "code_challenge": generate_token(50),
    }
    for method in ("plain", None):
        query = dict(params, **({"code_challenge_method": method} if method else {}))
        answer = await user.http_client.get("/oidc/authorize", params=query, follow_redirects=False)
        assert answer.status_code == 302
        error = parse_qs(urlsplit(answer.headers["location"]).query)
        assert error["error"] == ["invalid_request"] and "S256" in error["error_description"][0]
