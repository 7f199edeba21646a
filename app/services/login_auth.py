"""Domain-account login (guide 3.2.6): this console as the OpenID Connect identity provider of exclusive DingTalk.

DingTalk's admin console (安全与权限 > SSO单点登录设置) takes our issuer and client id; a user choosing 域账号登录
lands on our authorize page, types ``zhangsan@landray.com`` and the EKP password, and goes back to DingTalk's
``oidcCallBack.htm`` with an id_token whose ``sub`` is their DingTalk userid (reference section 10).

Settings live in the system parameter ``login_auth`` (the client secret encrypted); signing keys in SigningKey
(private key encrypted; rotated keys stay published for a while so tokens signed just before still verify).
Authorisation codes and access tokens are short-lived and kept in the database as SHA-256 hashes (OidcGrant), so
several replicas and a restart keep working; codes are single use, bound to client and redirect_uri, and honour
PKCE (S256 only). Failed logins are throttled through app/services/login_throttle.py, also in the database.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import aiohttp
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey

from app.core.security import decrypt_secret, encrypt_secret, mask
from app.models.orgs import Org
from app.models.security import OidcGrant
from app.models.system import SigningKey, SystemParam
from app.services import audit, company, login_throttle, orgs, system_params
from app.services.authenticators import AUTHENTICATORS, AuthFailure, Identity
from app.services.errors import LoginFailed, ValidationFailed
from app.services.permissions import Actor, Perm, authorize
from app.services.write import Write, write, writer

DINGTALK_REDIRECT = "https://login.dingtalk.com/oauth2/oidcCallBack.htm"
PARAM_KEY = "login_auth"
CODE_TTL = 300
TOKEN_TTL = 600
ID_TOKEN_TTL = 600
KEEP_RETIRED_KEYS = 2


class OidcError(Exception):
    """An OAuth error. ``redirectable`` errors go back to the client; the others are shown on our error page."""

    def __init__(self, error: str, description: str, *, redirectable: bool = False, status: int = 400) -> None:
        super().__init__(description)
        self.error = error
        self.description = description
        self.redirectable = redirectable
        self.status = status


@dataclass
class LoginAuthSettings:
    enabled: bool = False
    authenticator: str = "ekp"
    client_id: str = ""
    client_secret: str = ""
    redirect_uris: list[str] = field(default_factory=lambda: [DINGTALK_REDIRECT])
    org_id: int | None = None  # whose contacts map accounts to DingTalk userids; None = the main org


async def load() -> LoginAuthSettings:
    param = await SystemParam.get_or_none(key=PARAM_KEY)
    raw = ((param.value or {}).get("value") if param else None) or {}
    return LoginAuthSettings(
        enabled=bool(raw.get("enabled")),
        authenticator=raw.get("authenticator") or "ekp",
        client_id=raw.get("client_id") or "",
        client_secret=decrypt_secret(raw.get("client_secret_enc") or "") or "",
        redirect_uris=list(raw.get("redirect_uris") or [DINGTALK_REDIRECT]),
        org_id=raw.get("org_id"),
    )


async def _store(w: Write, settings: LoginAuthSettings) -> None:
    value = {
        "enabled": settings.enabled,
        "authenticator": settings.authenticator,
        "client_id": settings.client_id,
        "client_secret_enc": encrypt_secret(settings.client_secret) or "",
        "redirect_uris": settings.redirect_uris,
        "org_id": settings.org_id,
    }
    await system_params.put_value(w, PARAM_KEY, "登录认证设置", value)


async def issuer() -> str:
    return await orgs.default_callback_domain()


async def discovery() -> dict[str, Any]:
    urls = await endpoints()
    return {
        "issuer": urls["issuer"],
        "authorization_endpoint": urls["authorization_endpoint"],
        "token_endpoint": urls["token_endpoint"],
        "userinfo_endpoint": urls["userinfo_endpoint"],
        "jwks_uri": urls["jwks_uri"],
        "response_types_supported": ["code", "id_token", "id_token token"],
        "response_modes_supported": ["query", "fragment", "form_post"],
        "grant_types_supported": ["authorization_code", "implicit"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "scopes_supported": ["openid", "profile"],
        "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
        "code_challenge_methods_supported": ["S256"],
        "claims_supported": ["sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "name", "preferred_username"],
    }


async def endpoints() -> dict[str, str]:
    base = await issuer()
    return {
        "issuer": base,
        "authorization_endpoint": f"{base}/oidc/authorize",
        "token_endpoint": f"{base}/oidc/token",
        "userinfo_endpoint": f"{base}/oidc/userinfo",
        "jwks_uri": f"{base}/oidc/jwks",
        "discovery": f"{base}/.well-known/openid-configuration",
    }


# ---------------------------------------------------------------------------------------------------------------
# Settings page


@dataclass
class LoginAuthView:
    enabled: bool
    authenticator: str
    authenticators: dict[str, str]
    client_id: str
    client_secret_masked: str
    redirect_uris: list[str]
    org_id: int | None
    org_choices: dict[int, str]
    endpoints: dict[str, str]
    keys: list[dict[str, Any]]
    domain: str


async def get_view(actor: Actor) -> LoginAuthView:
    await authorize(actor, Perm.LOGIN_AUTH)
    settings = await load()
    org_list = await Org.all().order_by("-is_main", "id").values_list("id", "name")
    keys = [
        {"kid": k.kid, "created": k.created_at, "active": k.active}
        for k in await SigningKey.all().order_by("-id").limit(KEEP_RETIRED_KEYS + 1)
    ]
    return LoginAuthView(
        enabled=settings.enabled,
        authenticator=settings.authenticator,
        authenticators={code: a.label for code, a in AUTHENTICATORS.items()},
        client_id=settings.client_id,
        client_secret_masked=mask(settings.client_secret),
        redirect_uris=settings.redirect_uris,
        org_id=settings.org_id,
        org_choices=dict(org_list),
        endpoints=await endpoints(),
        keys=keys,
        domain=await company.company_domain(),
    )


async def save_settings(
    actor: Actor, *, enabled: bool, authenticator: str, redirect_uris: list[str], org_id: int | None
) -> str | None:
    """Save; the first save creates the client id and secret. Returns a new client secret to show once, if any."""
    w = await writer(actor, Perm.LOGIN_AUTH, kind="login_auth")
    if authenticator not in AUTHENTICATORS:
        raise ValidationFailed("请选择认证方式", field="authenticator")
    uris = [u.strip() for u in redirect_uris if u.strip()]
    if not uris:
        raise ValidationFailed("请至少填写一个回调地址（钉钉为 " + DINGTALK_REDIRECT + "）", field="redirect_uris")
    bad = [u for u in uris if not u.startswith(("https://", "http://"))]
    if bad:
        raise ValidationFailed(f"回调地址需以 https:// 开头：{bad[0]}", field="redirect_uris")
    if org_id is not None and not await Org.exists(id=org_id):
        raise ValidationFailed("请选择组织", field="org_id")
    if enabled and not await Org.exists():
        raise ValidationFailed("请先填写公司信息并绑定钉钉组织，再启用域账号登录", field="enabled")
    settings = await load()
    before = {
        "enabled": settings.enabled,
        "authenticator": settings.authenticator,
        "redirect_uris": settings.redirect_uris,
    }
    new_secret = None
    if not settings.client_id:
        settings.client_id = "landing-" + secrets.token_hex(8)
        new_secret = settings.client_secret = secrets.token_urlsafe(32)
    settings.enabled, settings.authenticator, settings.redirect_uris, settings.org_id = (
        enabled,
        authenticator,
        uris,
        org_id,
    )
    async with w:
        await _store(w, settings)
        if enabled:
            await active_key()
        await w.audit(
            "login_auth.update",
            object_name="域账号登录",
            before=before,
            after={"enabled": enabled, "authenticator": authenticator, "redirect_uris": uris, "org_id": org_id},
        )
    return new_secret


async def regenerate_client_secret(actor: Actor) -> str:
    async with write(actor, Perm.LOGIN_AUTH, kind="login_auth") as w:
        settings = await load()
        if not settings.client_id:
            settings.client_id = "landing-" + secrets.token_hex(8)
        settings.client_secret = secrets.token_urlsafe(32)
        await _store(w, settings)
        await w.audit("login_auth.regenerate_secret", object_name="client_secret")
    return settings.client_secret


# ---------------------------------------------------------------------------------------------------------------
# Signing keys


def _new_key() -> tuple[str, RSAKey]:
    kid = time.strftime("%Y%m%d%H%M%S") + "-" + secrets.token_hex(4)
    key = RSAKey.generate_key(2048, parameters={"kid": kid, "use": "sig", "alg": "RS256"}, private=True)
    return kid, key


async def active_key() -> tuple[str, RSAKey]:
    row = await SigningKey.filter(active=True).order_by("-id").first()
    if row is None:
        kid, key = _new_key()
        async with write(None):  # the first key, made when the first token is signed or login is enabled
            await SigningKey.create(
                kid=kid, private_pem=key.as_pem(private=True).decode(), public_jwk=key.as_dict(private=False)
            )
        return kid, key
    key = RSAKey.import_key(row.private_pem, parameters={"kid": row.kid, "use": "sig", "alg": "RS256"})
    return row.kid, key


async def rotate_key(actor: Actor) -> str:
    """A new signing key; the previous ones stay in the JWKS (not used to sign) so recent tokens still verify."""
    w = await writer(actor, Perm.LOGIN_AUTH, kind="signing_key")
    kid, key = _new_key()
    async with w:
        await SigningKey.filter(active=True).update(active=False)
        await SigningKey.create(
            kid=kid, private_pem=key.as_pem(private=True).decode(), public_jwk=key.as_dict(private=False)
        )
        retired = (
            await SigningKey.filter(active=False).order_by("-id").offset(KEEP_RETIRED_KEYS).values_list("id", flat=True)
        )
        if retired:
            await SigningKey.filter(id__in=list(retired)).delete()
        await w.audit("login_auth.rotate_key", object_id=kid, object_name=kid)
    return kid


async def jwks() -> dict[str, Any]:
    rows = await SigningKey.all().order_by("-id").limit(KEEP_RETIRED_KEYS + 1)
    return {"keys": [dict(r.public_jwk) for r in rows]}


async def public_keyset() -> KeySet:
    return KeySet.import_key_set(await jwks())


# ---------------------------------------------------------------------------------------------------------------
# The authorisation flow


@dataclass
class AuthRequest:
    client_id: str
    redirect_uri: str
    response_type: str
    scope: str
    state: str = ""
    nonce: str = ""
    response_mode: str = ""
    code_challenge: str = ""
    code_challenge_method: str = ""

    def as_form(self) -> dict[str, str]:
        return {k: v for k, v in self.__dict__.items() if v}


# Codes and access tokens live in the database (only their SHA-256), so several replicas and a restart keep working.
_PKCE = re.compile(r"^[A-Za-z0-9._~-]{43,128}$")


def _hash(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def _s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode("ascii")).digest()).rstrip(b"=").decode()


def _now() -> datetime:
    return datetime.now(UTC)


async def _purge() -> None:
    async with write(None):  # expired codes and tokens, on the way of a login
        await OidcGrant.filter(expires_at__lt=_now() - timedelta(minutes=5)).delete()


def _identity_dict(identity: Identity, nonce: str) -> dict[str, Any]:
    return {
        "person_id": identity.person_id,
        "name": identity.name,
        "ding_userid": identity.ding_userid,
        "login": identity.login,
        "nonce": nonce,
    }


def _identity_of(claims: dict[str, Any]) -> Identity:
    return Identity(
        person_id=int(claims["person_id"]),
        name=claims["name"],
        ding_userid=claims["ding_userid"],
        login=claims["login"],
    )


async def check_request(params: dict[str, str]) -> AuthRequest:
    """Validate an authorisation request before showing the login page."""
    settings = await load()
    if not settings.enabled:
        raise OidcError("access_denied", "域账号登录未启用，请联系管理员在“设置 > 登录认证”中启用", status=403)
    if any("\x00" in str(v) or len(str(v)) > 2048 for v in params.values()):
        raise OidcError("invalid_request", "请求参数格式不正确")
    request = AuthRequest(
        client_id=params.get("client_id", ""),
        redirect_uri=params.get("redirect_uri", ""),
        response_type=params.get("response_type", ""),
        scope=params.get("scope", ""),
        state=params.get("state", ""),
        nonce=params.get("nonce", ""),
        response_mode=params.get("response_mode", ""),
        code_challenge=params.get("code_challenge", ""),
        code_challenge_method=params.get("code_challenge_method", ""),
    )
    if not request.client_id or not hmac.compare_digest(request.client_id, settings.client_id):
        raise OidcError("invalid_client", "未知的 client_id：请核对钉钉管理后台中填写的 Client ID")
    if request.redirect_uri not in settings.redirect_uris:
        raise OidcError("invalid_request", "回调地址 redirect_uri 未登记：请在“设置 > 登录认证”中添加")
    if request.response_type not in ("code", "id_token", "id_token token"):
        raise OidcError("unsupported_response_type", "仅支持 code 或 id_token", redirectable=True)
    if "openid" not in request.scope.split():
        raise OidcError("invalid_scope", "scope 必须包含 openid", redirectable=True)
    if request.response_type != "code" and not request.nonce:
        raise OidcError("invalid_request", "隐式模式必须提供 nonce", redirectable=True)
    if request.code_challenge or request.code_challenge_method:
        # RFC 7636: no method means "plain", which protects nothing against an intercepted code: S256 only.
        if request.code_challenge_method != "S256":
            raise OidcError("invalid_request", "PKCE 仅支持 code_challenge_method=S256", redirectable=True)
        if not _PKCE.match(request.code_challenge):
            raise OidcError("invalid_request", "code_challenge 格式不正确", redirectable=True)
    return request


def split_domain_account(username: str, domain: str) -> str:
    """``zhangsan@landray.com`` -> ``zhangsan`` (the 企业域标识 must be ours); a bare account is accepted too."""
    username = username.strip()
    if "@" not in username:
        return username
    account, _, suffix = username.rpartition("@")
    if domain and suffix.lower() != domain.lower():
        raise AuthFailure(f"企业域标识不正确，请输入 账号@{domain}", f"企业域标识不符：{suffix[:64]}")
    return account


async def login(
    request: AuthRequest, username: str, password: str, ip: str, *, http: aiohttp.ClientSession
) -> Identity:
    """Check the domain account; raises AuthFailure with the message for the login page. Every attempt is audited."""
    settings = await load()
    if not username.strip() or not password:
        raise AuthFailure("请输入域账号和密码")
    if len(username) > 128 or len(password) > 256 or "\x00" in username:
        raise AuthFailure("账号或密码错误", "输入过长")
    throttle_key = "oidc:" + username.strip()
    policy = await login_throttle.current_policy()
    try:
        await login_throttle.check(throttle_key, ip, policy)
    except LoginFailed as exc:
        await audit.record(None, "oidc.login.blocked", login=username[:64], ip=ip, detail="尝试过于频繁")
        raise AuthFailure(exc.message, "尝试过于频繁") from exc
    org_id = settings.org_id
    if org_id is None:
        main = await Org.filter(is_main=True).first()
        org_id = main.id if main else None
    if org_id is None:
        raise AuthFailure("尚未绑定钉钉组织，暂不能使用域账号登录", "尚未绑定组织")
    authenticator = AUTHENTICATORS.get(settings.authenticator) or AUTHENTICATORS["ekp"]
    try:
        account = split_domain_account(username, await company.company_domain())
        identity = await authenticator.authenticate(org_id, account, password, http)
    except AuthFailure as exc:
        await login_throttle.record_failure(throttle_key, ip, policy)
        await audit.record(
            None, "oidc.login.failed", login=username[:64], ip=ip, org_id=org_id, detail=exc.reason[:500]
        )
        raise
    await login_throttle.record_success(throttle_key, ip)
    await audit.record(
        None,
        "oidc.login.success",
        login=username[:64],
        ip=ip,
        org_id=org_id,
        object_type="person",
        object_id=identity.person_id,
        object_name=identity.name,
        detail=f"钉钉 userid {identity.ding_userid}",
    )
    return identity


async def _id_token(request: AuthRequest, identity: Identity, *, access_token: str = "") -> str:
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": await issuer(),
        "sub": identity.ding_userid,
        "aud": request.client_id,
        "iat": now,
        "auth_time": now,
        "exp": now + ID_TOKEN_TTL,
        "name": identity.name,
        "preferred_username": identity.login,
    }
    if request.nonce:
        claims["nonce"] = request.nonce
    if access_token:
        claims["at_hash"] = _at_hash(access_token)
    kid, key = await active_key()
    return jwt.encode({"alg": "RS256", "kid": kid, "typ": "JWT"}, claims, key)


def _at_hash(token: str) -> str:
    digest = hashlib.sha256(token.encode()).digest()
    return base64.urlsafe_b64encode(digest[:16]).rstrip(b"=").decode()


async def complete(request: AuthRequest, identity: Identity) -> tuple[str, dict[str, str]]:
    """Where to send the browser after a successful login: (response mode, parameters)."""
    await _purge()
    params: dict[str, str] = {}
    if request.state:
        params["state"] = request.state
    if request.response_type == "code":
        code = secrets.token_urlsafe(32)
        async with write(None):  # for the identity that just logged in
            await OidcGrant.create(
                token_hash=_hash(code),
                kind="code",
                client_id=request.client_id,
                redirect_uri=request.redirect_uri[:512],
                claims=_identity_dict(identity, request.nonce),
                code_challenge=request.code_challenge,
                expires_at=_now() + timedelta(seconds=CODE_TTL),
            )
        params["code"] = code
        return request.response_mode or "query", params
    access_token = ""
    if "token" in request.response_type.split():
        access_token = await _issue_access_token(request.client_id, identity, request)
        params.update(access_token=access_token, token_type="Bearer", expires_in=str(TOKEN_TTL))
    params["id_token"] = await _id_token(request, identity, access_token=access_token)
    return request.response_mode or "fragment", params


async def _issue_access_token(client_id: str, identity: Identity, request: AuthRequest) -> str:
    token = secrets.token_urlsafe(32)
    async with write(None):  # for a logged-in identity or a client that redeemed its code
        await OidcGrant.create(
            token_hash=_hash(token),
            kind="access",
            client_id=client_id,
            redirect_uri=request.redirect_uri[:512],
            claims=_identity_dict(identity, request.nonce),
            expires_at=_now() + timedelta(seconds=TOKEN_TTL),
        )
    return token


def redirect_url(redirect_uri: str, mode: str, params: dict[str, str]) -> str:
    separator = "#" if mode == "fragment" else ("&" if "?" in redirect_uri else "?")
    return f"{redirect_uri}{separator}{urlencode(params)}"


async def exchange_code(
    code: str, client_id: str, client_secret: str, redirect_uri: str, code_verifier: str = ""
) -> dict[str, Any]:
    """The token endpoint (authorization_code grant, client_secret_post or client_secret_basic, optional PKCE)."""
    settings = await load()
    if not settings.enabled:
        raise OidcError("access_denied", "login disabled", status=403)
    if not (
        client_id
        and hmac.compare_digest(client_id, settings.client_id)
        and client_secret
        and hmac.compare_digest(client_secret, settings.client_secret)
    ):
        raise OidcError("invalid_client", "client authentication failed", status=401)
    if not code or len(code) > 256:
        raise OidcError("invalid_grant", "authorization code is invalid or expired")
    token_hash = _hash(code)
    # Single use across replicas: only the request whose update flips ``used`` gets the grant.
    async with write(None):  # the client authenticated with its secret
        claimed = await OidcGrant.filter(token_hash=token_hash, kind="code", used=False).update(used=True)
    grant = await OidcGrant.get_or_none(token_hash=token_hash, kind="code")
    if not claimed or grant is None or grant.expires_at < _now():
        raise OidcError("invalid_grant", "authorization code is invalid, expired or already used")
    if grant.client_id != client_id or grant.redirect_uri != redirect_uri:
        raise OidcError("invalid_grant", "redirect_uri or client_id does not match the authorization request")
    if grant.code_challenge:
        if not code_verifier or not _PKCE.match(code_verifier):
            raise OidcError("invalid_grant", "code_verifier is required (PKCE)")
        if not hmac.compare_digest(_s256(code_verifier), grant.code_challenge):
            raise OidcError("invalid_grant", "code_verifier does not match the code_challenge")
    identity = _identity_of(grant.claims)
    request = AuthRequest(client_id, redirect_uri, "code", "openid", nonce=grant.claims.get("nonce") or "")
    access_token = await _issue_access_token(client_id, identity, request)
    return {
        "access_token": access_token,
        "token_type": "Bearer",
        "expires_in": TOKEN_TTL,
        "id_token": await _id_token(request, identity, access_token=access_token),
        "scope": "openid",
    }


async def userinfo(access_token: str) -> dict[str, Any]:
    grant = (
        await OidcGrant.get_or_none(token_hash=_hash(access_token), kind="access")
        if access_token and len(access_token) <= 256
        else None
    )
    if grant is None or grant.expires_at < _now():
        raise OidcError("invalid_token", "access token is invalid or expired", status=401)
    identity = _identity_of(grant.claims)
    return {"sub": identity.ding_userid, "name": identity.name, "preferred_username": identity.login}


async def reset_rate_limits() -> None:
    await login_throttle.reset_all()
