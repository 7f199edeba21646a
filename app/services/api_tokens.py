"""Personal API tokens (管理员 page): create (the token is shown once), list, revoke, and authenticate a call.

A token stands for its owner: ``authenticate`` re-reads the owner's account and role grants on every call, so the
token can do exactly what the owner can do now, in the owner's orgs only. Only the SHA-256 of a token is stored;
tokens are long random strings, so a plain hash is enough (no salt or slow hash needed as for passwords).
An admin sees and revokes only their own tokens; the super admin sees and may revoke everyone's.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from app.models.accounts import Account
from app.models.api_tokens import ApiToken
from app.services import accounts
from app.services.errors import NotFound, PermissionDenied, ServiceError, ValidationFailed
from app.services.permissions import Actor
from app.services.write import write

TOKEN_PREFIX = "ldt_"
MAX_NAME = 64
MAX_ACTIVE_PER_ACCOUNT = 20
# last_used_at is written at most this often per token, so a busy script does not turn every call into a write.
_TOUCH_EVERY = timedelta(minutes=1)


class InvalidToken(ServiceError):
    """No token, an unknown or revoked token, or its owner can no longer log in: the API answers 401."""


@dataclass
class TokenView:
    id: int
    name: str
    prefix: str
    owner_login: str
    created_at: datetime
    last_used_at: datetime | None
    last_used_ip: str
    revoked_at: datetime | None
    revoked_by: str

    @property
    def active(self) -> bool:
        return self.revoked_at is None


@dataclass
class CreatedToken:
    view: TokenView
    token: str  # shown once, never stored


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _require_admin(actor: Actor) -> None:
    if not actor.is_super and not actor.org_roles:
        raise PermissionDenied("api_token", "无权限：只有管理员可以使用 API 令牌")


def _view(token: ApiToken, owner_login: str) -> TokenView:
    return TokenView(
        id=token.id,
        name=token.name,
        prefix=token.prefix,
        owner_login=owner_login,
        created_at=token.created_at,
        last_used_at=token.last_used_at,
        last_used_ip=token.last_used_ip,
        revoked_at=token.revoked_at,
        revoked_by=token.revoked_by,
    )


async def create_token(actor: Actor, name: str) -> CreatedToken:
    """新建令牌: returns the token text once; only its hash is kept."""
    _require_admin(actor)
    name = (name or "").strip()
    if not name:
        raise ValidationFailed("请输入令牌名称，如“夜间同步脚本”", field="name")
    if len(name) > MAX_NAME:
        raise ValidationFailed(f"令牌名称不能超过 {MAX_NAME} 个字符", field="name")
    active = ApiToken.filter(account_id=actor.account_id, revoked_at=None)
    if await active.filter(name=name).exists():
        raise ValidationFailed("已有同名的有效令牌，请换一个名称", field="name")
    if await active.count() >= MAX_ACTIVE_PER_ACCOUNT:
        raise ValidationFailed(f"每个账号最多 {MAX_ACTIVE_PER_ACCOUNT} 个有效令牌，请先撤销不用的令牌", field="name")
    text = TOKEN_PREFIX + secrets.token_urlsafe(32)
    async with write(actor, org_id=actor.current_org_id, kind="api_token") as w:  # _require_admin checked
        token = await ApiToken.create(
            account_id=actor.account_id, name=name, token_hash=hash_token(text), prefix=text[: len(TOKEN_PREFIX) + 6]
        )
        await w.audit(
            "api_token.create", object_id=token.id, object_name=name, after={"name": name, "prefix": token.prefix}
        )
    return CreatedToken(view=_view(token, actor.login), token=text)


async def list_tokens(actor: Actor) -> list[TokenView]:
    """The actor's own tokens (newest first); the super admin sees every account's."""
    _require_admin(actor)
    query = ApiToken.all() if actor.is_super else ApiToken.filter(account_id=actor.account_id)
    tokens = await query.order_by("-created_at", "-id")
    logins = dict(await Account.filter(id__in={t.account_id for t in tokens}).values_list("id", "login"))
    return [_view(t, logins.get(t.account_id, "")) for t in tokens]


async def revoke_token(actor: Actor, token_id: int) -> TokenView:
    """撤销: the token stops working at once (401). Only its owner or the super admin may revoke it."""
    _require_admin(actor)
    token = await ApiToken.get_or_none(id=token_id)
    if token is None or (token.account_id != actor.account_id and not actor.is_super):
        raise NotFound("令牌不存在或已删除")
    owner = await Account.get_or_none(id=token.account_id)
    if token.revoked_at is not None:
        return _view(token, owner.login if owner else "")
    async with write(actor, org_id=actor.current_org_id, target=token, kind="api_token") as w:  # checked above
        token.revoked_at = datetime.now(UTC)
        token.revoked_by = actor.login
        await token.save(update_fields=["revoked_at", "revoked_by"])
        await w.audit(
            "api_token.revoke", detail=f"令牌 {token.prefix}… 属于 {owner.login if owner else '(已删除账号)'}"
        )
    return _view(token, owner.login if owner else "")


async def authenticate(text: str, *, ip: str = "") -> Actor:
    """The owner, as they are now, for a presented token; ``InvalidToken`` for anything else."""
    text = (text or "").strip()
    if not text.startswith(TOKEN_PREFIX) or len(text) > 128:
        raise InvalidToken("缺少或无效的 API 令牌")
    digest = hash_token(text)
    token = await ApiToken.get_or_none(token_hash=digest)
    # The lookup is by the hash; compare again in constant time so a partial match never passes.
    if token is None or not hmac.compare_digest(token.token_hash, digest):
        raise InvalidToken("缺少或无效的 API 令牌")
    if token.revoked_at is not None:
        raise InvalidToken("API 令牌已撤销")
    # A password lockout does not stop a token (it guards the password, not the token); a disabled account does.
    actor = await accounts.load_actor(token.account_id, ip=ip)
    if actor is None or (not actor.is_super and not actor.org_roles):
        raise InvalidToken("令牌所属账号已停用或不再是管理员")
    now = datetime.now(UTC)
    if token.last_used_at is None or now - token.last_used_at >= _TOUCH_EVERY or token.last_used_ip != ip:
        async with write(None):  # bookkeeping of a valid token
            await ApiToken.filter(id=token.id).update(last_used_at=now, last_used_ip=ip[:64])
    return actor
