"""Who may log in to exclusive DingTalk with a domain account (guide 3.2.6), and as which DingTalk user.

An authenticator checks a password and names the person; the provider then signs an id_token whose ``sub`` is that
person's DingTalk userid. EKP is the default (EKP account + EKP password); the local authenticator checks this
console's own accounts. A project with another identity source adds a class with the same two members. The caller
hands ``authenticate`` the process's HTTP session (EKP checks the password over HTTP).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Protocol

import aiohttp
from tortoise.expressions import Q

from app.core.security import verify_password
from app.ekp.org_source import EkpError, EkpOrgSource, EkpSourceConfig
from app.models.accounts import Account, RoleGrant
from app.models.contacts import Person
from app.models.sync import SyncSettings

log = logging.getLogger(__name__)


class AuthFailure(Exception):
    """The login is refused; ``message`` is shown on the login page, ``reason`` goes to the audit log."""

    def __init__(self, message: str, reason: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.reason = reason or message


@dataclass(frozen=True)
class Identity:
    person_id: int
    name: str
    ding_userid: str
    login: str


class Authenticator(Protocol):
    code: str
    label: str

    async def authenticate(self, org_id: int, login: str, password: str, http: aiohttp.ClientSession) -> Identity: ...


async def _identity(person: Person | None, login: str) -> Identity:
    if person is None:
        raise AuthFailure("账号不存在或尚未同步到通讯录", "通讯录中没有该账号")
    if not person.is_active:
        raise AuthFailure("该账号已停用，不能登录钉钉", "人员已停用")
    if not person.ding_userid:
        raise AuthFailure("该账号尚未同步到钉钉，暂不能登录钉钉，请联系管理员", "人员没有钉钉 userid")
    return Identity(person.id, person.name, person.ding_userid, login)


class LocalAuthenticator:
    """This console's accounts (the ones admins log in with); the person is the account's contact entry."""

    code = "local"
    label = "蓝钉管理平台账号"

    async def authenticate(self, org_id: int, login: str, password: str, http: aiohttp.ClientSession) -> Identity:
        account = await Account.get_or_none(login=login)
        if account is None or not account.is_active:
            raise AuthFailure("账号或密码错误", "账号不存在或已停用")
        if not verify_password(password, account.password_hash):
            raise AuthFailure("账号或密码错误", "密码错误")
        grant = await RoleGrant.filter(account_id=account.id, org_id=org_id, person_id__isnull=False).first()
        person = await Person.get_or_none(id=grant.person_id) if grant else None
        if person is None:
            person = await Person.filter(org_id=org_id).filter(Q(login_name=login) | Q(mobile=login)).first()
        return await _identity(person, login)


class EkpAuthenticator:
    """EKP checks the password (its password-check service) with the org's configured EKP access account."""

    code = "ekp"
    label = "EKP 登录认证"

    async def authenticate(self, org_id: int, login: str, password: str, http: aiohttp.ClientSession) -> Identity:
        settings = await SyncSettings.get_or_none(org_id=org_id)
        if settings is None or not settings.source_url:
            raise AuthFailure("EKP 认证未配置，请联系管理员（通讯录 > 同步设置 填写 EKP 地址和账号）", "EKP 未配置")
        source = EkpOrgSource(
            http,
            EkpSourceConfig(
                base_url=settings.source_url,
                user=settings.source_user,
                password=settings.source_password,
                transport="rest",
                timeout_seconds=10,
            ),
        )
        try:
            valid = await source.verify_password(login, password)
        except EkpError as exc:
            log.warning("EKP password check failed: %s", exc)
            raise AuthFailure("EKP 暂时无法验证密码，请稍后再试", f"EKP 不可用：{type(exc).__name__}") from None
        if not valid:
            raise AuthFailure("账号或密码错误", "EKP 校验密码未通过")
        person = await Person.get_or_none(org_id=org_id, login_name=login)
        return await _identity(person, login)


AUTHENTICATORS: dict[str, Authenticator] = {a.code: a for a in (EkpAuthenticator(), LocalAuthenticator())}
