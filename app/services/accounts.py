"""Accounts: log-in with lockout, forced password change, role grants and resolving the acting admin."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from tortoise.transactions import in_transaction

from app.core.security import MAX_PASSWORD_BYTES, hash_password, verify_password
from app.models.accounts import Account, Role, RoleGrant
from app.models.orgs import Org
from app.services import audit
from app.services.errors import LoginFailed, NotFound, ValidationFailed
from app.services.permissions import ROLE_LEVEL, Actor

MAX_FAILED_ATTEMPTS = 5
LOCK_MINUTES = 15
BOOTSTRAP_LOGIN = "admin"
BOOTSTRAP_PASSWORD = "1"  # guide 3.2.1: a fresh install logs in with admin / 1 and must change it
INITIAL_ADMIN_PASSWORD = "123456"  # guide 3.2.2 / 3.3.3: admins created later start with 123456
_WEAK = {"123456", "12345678", "password", "11111111", "88888888", "1", "admin123"}


def _now() -> datetime:
    return datetime.now(UTC)


async def ensure_bootstrap_admin() -> bool:
    """On an empty database create ``admin`` (password 1, must change). Returns True when it was created."""
    if await Account.exists():
        return False
    async with in_transaction():
        account = await Account.create(
            login=BOOTSTRAP_LOGIN,
            display_name="管理员",
            password_hash=hash_password(BOOTSTRAP_PASSWORD),
            must_change_password=True,
        )
        await RoleGrant.create(account=account, role=Role.SUPER_ADMIN, org=None)
    return True


async def authenticate(login: str, password: str, ip: str = "") -> Account:
    """Check a login. Five wrong passwords in a row lock the account for fifteen minutes."""
    login = (login or "").strip()
    if not login or not password:
        raise LoginFailed("请输入账号和密码")
    account = await Account.get_or_none(login=login)
    if account is None or not account.is_active:
        await audit.record(None, "login.failed", login=login, ip=ip, detail="账号不存在或已停用")
        raise LoginFailed("账号或密码错误")
    now = _now()
    if account.locked_until and account.locked_until > now:
        minutes = max(1, int((account.locked_until - now).total_seconds() // 60) + 1)
        raise LoginFailed(
            f"账号已被锁定，请 {minutes} 分钟后再试（连续 {MAX_FAILED_ATTEMPTS} 次密码错误将锁定 {LOCK_MINUTES} 分钟）"
        )
    if not verify_password(password, account.password_hash):
        account.failed_attempts += 1
        if account.failed_attempts >= MAX_FAILED_ATTEMPTS:
            account.locked_until = now + timedelta(minutes=LOCK_MINUTES)
            account.failed_attempts = 0
            await account.save(update_fields=["failed_attempts", "locked_until"])
            await audit.record(None, "login.locked", login=login, ip=ip, object_type="account", object_id=account.id)
            raise LoginFailed(f"密码连续错误 {MAX_FAILED_ATTEMPTS} 次，账号已被锁定 {LOCK_MINUTES} 分钟")
        await account.save(update_fields=["failed_attempts"])
        await audit.record(
            None, "login.failed", login=login, ip=ip, object_type="account", object_id=account.id, object_name=login
        )
        left = MAX_FAILED_ATTEMPTS - account.failed_attempts
        raise LoginFailed(f"账号或密码错误，还可尝试 {left} 次")
    account.failed_attempts = 0
    account.locked_until = None
    account.last_login_at = now
    await account.save(update_fields=["failed_attempts", "locked_until", "last_login_at"])
    await audit.record(
        None, "login.success", login=login, ip=ip, object_type="account", object_id=account.id, object_name=login
    )
    return account


def check_new_password(new: str, confirm: str, *, old: str | None = None) -> None:
    if new != confirm:
        raise ValidationFailed("两次输入的新密码不一致", field="confirm")
    if len(new) < 8:
        raise ValidationFailed("新密码至少 8 位", field="new")
    if len(new.encode()) > MAX_PASSWORD_BYTES:
        raise ValidationFailed(f"新密码不能超过 {MAX_PASSWORD_BYTES} 字节", field="new")
    if not (any(c.isalpha() for c in new) and any(c.isdigit() for c in new)):
        raise ValidationFailed("新密码需同时包含字母和数字", field="new")
    if new.lower() in _WEAK:
        raise ValidationFailed("新密码过于简单，请换一个", field="new")
    if old is not None and new == old:
        raise ValidationFailed("新密码不能与原密码相同", field="new")


async def change_password(actor: Actor, old: str, new: str, confirm: str) -> None:
    account = await Account.get(id=actor.account_id)
    if not verify_password(old, account.password_hash):
        raise ValidationFailed("原密码不正确", field="old")
    check_new_password(new, confirm, old=old)
    account.password_hash = hash_password(new)
    account.must_change_password = False
    await account.save(update_fields=["password_hash", "must_change_password"])
    await audit.record(
        actor, "account.change_password", object_type="account", object_id=account.id, object_name=account.login
    )


async def reset_password(login: str) -> str:
    """Operator recovery from the command line: a random temporary password that must be changed at next login."""
    account = await Account.get_or_none(login=login)
    if account is None:
        raise NotFound(f"账号 {login} 不存在")
    temporary = secrets.token_urlsafe(9)
    account.password_hash = hash_password(temporary)
    account.must_change_password = True
    account.failed_attempts = 0
    account.locked_until = None
    await account.save()
    await audit.record(
        None, "account.reset_password", login="(cli)", object_type="account", object_id=account.id, object_name=login
    )
    return temporary


async def load_actor(account_id: int, current_org_id: int | None = None, ip: str = "") -> Actor | None:
    account = await Account.get_or_none(id=account_id, is_active=True)
    if account is None:
        return None
    grants = await RoleGrant.filter(account_id=account_id)
    is_super = any(g.role == Role.SUPER_ADMIN for g in grants)
    org_roles: dict[int, Role] = {}
    dept_scopes: dict[int, tuple[int, ...]] = {}
    for grant in grants:
        if grant.org_id is None:
            continue
        current = org_roles.get(grant.org_id)
        if current is None or ROLE_LEVEL[grant.role] > ROLE_LEVEL[current]:
            org_roles[grant.org_id] = grant.role
        if grant.role == Role.DEPT_ADMIN:
            dept_scopes[grant.org_id] = tuple(sorted(set(dept_scopes.get(grant.org_id, ())) | set(grant.dept_ids)))
    if current_org_id is not None and not is_super and current_org_id not in org_roles:
        current_org_id = None
    if current_org_id is not None and not await Org.exists(id=current_org_id):
        current_org_id = None
    return Actor(
        account_id=account.id,
        login=account.login,
        display_name=account.display_name or account.login,
        is_super=is_super,
        org_roles=org_roles,
        dept_scopes=dept_scopes,
        current_org_id=current_org_id,
        ip=ip,
    )


async def must_change_password(account_id: int) -> bool:
    account = await Account.get_or_none(id=account_id)
    return bool(account and account.must_change_password)


@dataclass
class OrgChoice:
    id: int
    name: str
    role: Role
    is_main: bool


async def org_choices(actor: Actor) -> list[OrgChoice]:
    """The orgs this account may enter (guide 3.3.1 选择组织): all of them for the super admin."""
    query = Org.all() if actor.is_super else Org.filter(id__in=list(actor.org_roles))
    orgs = await query.order_by("-is_main", "id")
    return [
        OrgChoice(id=o.id, name=o.name, role=actor.role_in(o.id) or Role.SUPER_ADMIN, is_main=o.is_main) for o in orgs
    ]


async def grant_role(
    actor: Actor | None,
    *,
    login: str,
    display_name: str,
    role: Role,
    org: Org | None,
    person_id: int | None = None,
    dept_ids: list[int] | None = None,
) -> tuple[Account, bool]:
    """Give ``login`` a role, creating the account with the initial password 123456 when it is new."""
    created = False
    async with in_transaction():
        account = await Account.get_or_none(login=login)
        if account is None:
            account = await Account.create(
                login=login,
                display_name=display_name,
                password_hash=hash_password(INITIAL_ADMIN_PASSWORD),
                must_change_password=True,
            )
            created = True
        grant, _ = await RoleGrant.get_or_create(
            account=account, role=role, org=org, defaults={"person_id": person_id, "dept_ids": dept_ids or []}
        )
        if dept_ids is not None and grant.dept_ids != dept_ids:
            grant.dept_ids = dept_ids
            await grant.save(update_fields=["dept_ids"])
    await audit.record(
        actor,
        "account.grant_role",
        org_id=org.id if org else None,
        org_name=org.name if org else "",
        object_type="account",
        object_id=account.id,
        object_name=login,
        after={"role": role.value, "dept_ids": dept_ids or []},
        detail="新建账号，初始密码 123456" if created else "",
    )
    return account, created


async def revoke_role(actor: Actor | None, *, account_id: int, role: Role, org: Org | None) -> None:
    deleted = await RoleGrant.filter(account_id=account_id, role=role, org=org).delete()
    if deleted:
        account = await Account.get(id=account_id)
        await audit.record(
            actor,
            "account.revoke_role",
            org_id=org.id if org else None,
            org_name=org.name if org else "",
            object_type="account",
            object_id=account_id,
            object_name=account.login,
            before={"role": role.value},
        )
