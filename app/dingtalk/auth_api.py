"""Login (SSO) wrappers (``DingTalkClient.login``).

Three flows (reference section 6):

- in-app free login: a one-time ``code`` from the DingTalk client -> ``topapi/v2/user/getuserinfo`` (app token);
- legacy QR login: ``sns/getuserinfo_bycode`` signed with the *scan-login* appid/appsecret (no corp token);
- OAuth2: ``/v1.0/oauth2/userAccessToken`` (code -> user token) then ``/v1.0/contact/users/me`` with the user token.

The unionid returned by the last two maps to an employee via ``client.contacts.get_user_by_unionid`` (app token).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from pydantic import AliasChoices, Field

from app.dingtalk.shapes import DingTalkModel
from app.dingtalk.transport import TOKEN_HEADER, App, Transport


class LoginUserInfo(DingTalkModel):
    """``topapi/v2/user/getuserinfo`` result. ``sys_level``: 1 main admin, 2 sub admin, 100 boss, 0 other."""

    userid: str
    unionid: str | None = None
    associated_unionid: str | None = None
    name: str | None = None
    device_id: str | None = None
    sys: bool | None = None
    sys_level: int | None = None


class SnsUserInfo(DingTalkModel):
    """``sns/getuserinfo_bycode`` ``user_info``."""

    nick: str | None = None
    unionid: str
    openid: str | None = None
    main_org_auth_high_level: bool | None = None


class UserAccessToken(DingTalkModel):
    """``/v1.0/oauth2/userAccessToken`` result (field names mapped from camelCase)."""

    access_token: str = Field(validation_alias=AliasChoices("accessToken", "access_token"), repr=False)
    refresh_token: str | None = Field(
        default=None, validation_alias=AliasChoices("refreshToken", "refresh_token"), repr=False
    )
    expire_in: int | None = Field(default=None, validation_alias=AliasChoices("expireIn", "expire_in"))
    corp_id: str | None = Field(default=None, validation_alias=AliasChoices("corpId", "corp_id"))


class UserProfile(DingTalkModel):
    """``/v1.0/contact/users/me`` result (field names mapped from camelCase)."""

    nick: str | None = None
    avatar_url: str | None = Field(default=None, validation_alias=AliasChoices("avatarUrl", "avatar_url"))
    mobile: str | None = None
    open_id: str | None = Field(default=None, validation_alias=AliasChoices("openId", "open_id"))
    union_id: str = Field(validation_alias=AliasChoices("unionId", "union_id"))
    email: str | None = None
    state_code: str | None = Field(default=None, validation_alias=AliasChoices("stateCode", "state_code"))


def sns_signature(appsecret: str, timestamp_ms: int | str) -> str:
    """Base64 HMAC-SHA256 of the bare millisecond timestamp keyed with the scan-login appsecret.

    The value is URL-encoded once when placed in the query string (it contains ``+``, ``/`` and ``=``).
    """
    digest = hmac.new(appsecret.encode("utf-8"), str(timestamp_ms).encode("utf-8"), hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


class LoginAPI:
    """SSO wrappers."""

    def __init__(self, transport: Transport) -> None:
        self._transport = transport

    async def check_app_corp(self, app: App) -> None:
        """Ask DingTalk whether the app runs in ``app.corpid``: the unified token API
        (``POST /v1.0/oauth2/{corpId}/token``, client credentials) only answers for the org the app belongs to and
        refuses any other corpId (``unauthorized.client``). Raises ``DingTalkAPIError`` when DingTalk says no."""
        corpid = quote(app.corpid, safe="")
        await self._transport.request(
            app=None,
            method="POST",
            base=self._transport.api_base,
            path=f"/v1.0/oauth2/{corpid}/token",
            json_body={"client_id": app.appkey, "client_secret": app.appsecret, "grant_type": "client_credentials"},
            auth="none",
            flavour="v1",
            limit_key="/v1.0/oauth2/{corpId}/token",
            limiter_owner=app.appkey,
        )

    async def get_login_user(self, app: App, code: str) -> LoginUserInfo:
        """In-app free login: exchange the one-time ``code`` (5 min, single use) for the user's identity."""
        data = await self._transport.oapi(app, "/topapi/v2/user/getuserinfo", {"code": code})
        return LoginUserInfo.model_validate(data.get("result") or {})

    async def get_sns_user_by_code(self, appid: str, appsecret: str, tmp_auth_code: str) -> SnsUserInfo:
        """Legacy QR login with the scan-login app's ``appid``/``appsecret``; returns ``unionid`` and ``nick``."""

        def signed_query() -> dict[str, str]:
            # Re-signed on every attempt: DingTalk rejects timestamps more than a minute off (853002).
            timestamp = str(int(time.time() * 1000))
            return {"accessKey": appid, "timestamp": timestamp, "signature": sns_signature(appsecret, timestamp)}

        data = await self._transport.request(
            app=None,
            method="POST",
            base=self._transport.oapi_base,
            path="/sns/getuserinfo_bycode",
            params=signed_query,
            json_body={"tmp_auth_code": tmp_auth_code},
            auth="none",
            flavour="oapi",
            limiter_owner=appid,
        )
        return SnsUserInfo.model_validate(data.get("user_info") or {})

    async def get_user_access_token(self, client_id: str, client_secret: str, code: str) -> UserAccessToken:
        """OAuth2: exchange the ``authCode`` from the login redirect for a user access token."""
        body = {"clientId": client_id, "clientSecret": client_secret, "code": code, "grantType": "authorization_code"}
        return await self._user_token(client_id, body)

    async def refresh_user_access_token(
        self, client_id: str, client_secret: str, refresh_token: str
    ) -> UserAccessToken:
        body = {
            "clientId": client_id,
            "clientSecret": client_secret,
            "refreshToken": refresh_token,
            "grantType": "refresh_token",
        }
        return await self._user_token(client_id, body)

    async def _user_token(self, client_id: str, body: Mapping[str, Any]) -> UserAccessToken:
        data = await self._transport.request(
            app=None,
            method="POST",
            base=self._transport.api_base,
            path="/v1.0/oauth2/userAccessToken",
            json_body=body,
            auth="none",
            flavour="v1",
            limiter_owner=client_id,
        )
        return UserAccessToken.model_validate(data)

    async def get_current_user(self, user_access_token: str) -> UserProfile:
        """``/v1.0/contact/users/me`` with the *user's* token (not refreshable here: a rejected token raises)."""
        data = await self._transport.request(
            app=None,
            method="GET",
            base=self._transport.api_base,
            path="/v1.0/contact/users/me",
            auth="none",
            flavour="v1",
            headers={TOKEN_HEADER: user_access_token},
            limiter_owner="oauth-user",
        )
        return UserProfile.model_validate(data)
