"""Accounts: log-in with lockout, forced password change, role grants and resolving the acting admin."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from tortoise.expressions import F

from app.core.security import HashingBusy, hash_password, hash_password_async, verify_password_async
from app.models.accounts import Account, Role, RoleGrant
from app.models.orgs import Org
from app.services import audit, login_throttle, password_policy
from app.services.errors import LoginFailed, NotFound, ValidationFailed
from app.services.permissions import Actor, build_actor
from app.services.write import write

BAD_CREDENTIALS = "账号或密码错误"
BOOTSTRAP_LOGIN = "admin"
BOOTSTRAP_PASSWORD = "1"  # guide 3.2.1: a fresh install logs in with admin / 1 and must change it
INITIAL_ADMIN_PASSWORD = "123456"  # guide 3.2.2 / 3.3.3: admins created later start with 123456


log = logging.getLogger(__name__)


def _now() -> datetime:
    return datetime.now(UTC)


async def ensure_bootstrap_admin() -> bool:
    """On an empty database create ``admin`` (password 1, must change). Returns True when it was created."""
    if await Account.exists():
        return False
    async with write(None):
        account = await Account.create(
            login=BOOTSTRAP_LOGIN,
            display_name="管理员",
            password_hash=hash_password(BOOTSTRAP_PASSWORD),
            must_change_password=True,
        )
        await RoleGrant.create(account=account, role=Role.SUPER_ADMIN, org=None)
    return True


async def authenticate(login: str, password: str, ip: str = "") -> Account:
    """Check a login; strangers can neither lock the owner out nor learn whether an account exists.

    Failures are counted per (account, address) pair, per address and per account (app/services/login_throttle.py);
    only the pair is locked, so the owner still logs in from elsewhere. An unknown account costs the same password
    check and gets the same answer as a wrong password.
    """
    login = (login or "").strip()[:64].replace("\x00", "")  # PostgreSQL refuses NUL in text
    if not login or not password:
        raise LoginFailed("请输入账号和密码")
    policy = await login_throttle.current_policy()
    await login_throttle.check(login, ip, policy)
    account = await Account.get_or_none(login=login)
    hashed = account.password_hash if account is not None and account.is_active else None
    try:
        ok = await verify_password_async(password_policy.normalise(password), hashed)
    except HashingBusy as exc:
        raise LoginFailed("系统繁忙，请稍后再试") from exc
    if not ok or account is None:
        left = await login_throttle.record_failure(login, ip, policy)
        await audit.record(
            None,
            "login.failed",
            login=login,
            ip=ip,
            object_type="account" if account else "",
            object_id=account.id if account else None,
            object_name=login if account else "",
            detail="" if account and account.is_active else "账号不存在或已停用",
        )
        if left == 0:
            await audit.record(None, "login.locked", login=login, ip=ip, detail=f"来源 {ip or '-'} 已被暂时锁定")
            raise LoginFailed(login_throttle.locked_message(policy.lock_minutes * 60))
        if left <= login_throttle.WARN_REMAINING:
            raise LoginFailed(f"{BAD_CREDENTIALS}，还可尝试 {left} 次")
        raise LoginFailed(BAD_CREDENTIALS)
    if not await RoleGrant.exists(account_id=account.id):
        await audit.record(None, "login.no_role", login=login, ip=ip, object_type="account", object_id=account.id)
        raise LoginFailed("该账号没有任何管理角色，不能登录。请联系组织管理员或超级管理员授权")
    await login_throttle.record_success(login, ip)
    async with write(None, kind="account") as w:
        account.last_login_at = _now()
        await account.save(update_fields=["last_login_at"])
        await w.audit("login.success", login=login, ip=ip, object_id=account.id, object_name=login)
    return account


def check_new_password(
    new: str, confirm: str, *, old: str | None = None, min_length: int = 8, personal: Iterable[str] = ()
) -> None:
    if new != confirm:
        raise ValidationFailed("两次输入的新密码不一致", field="confirm")
    problem = password_policy.problem(new, min_length=min_length, personal=personal)
    if problem:
        raise ValidationFailed(problem, field="new")
    if old is not None and password_policy.normalise(new) == password_policy.normalise(old):
        raise ValidationFailed("新密码不能与原密码相同", field="new")


async def password_min_length() -> int:
    return await password_policy.min_length()


async def change_password(actor: Actor, old: str, new: str, confirm: str) -> None:
    """Change the actor's own password; every other session of the account ends (this browser stays)."""
    account = await Account.get_or_none(id=actor.account_id, is_active=True)
    if account is None or (actor.session_epoch is not None and account.session_epoch != actor.session_epoch):
        raise ValidationFailed("登录已失效，请重新登录", field="old")
    if not await verify_password_async(old, account.password_hash):
        raise ValidationFailed("原密码不正确", field="old")
    check_new_password(
        new,
        confirm,
        old=old,
        min_length=await password_policy.min_length(),
        personal=await password_policy.personal_words(account.id, account.login, account.display_name),
    )
    password_hash = await hash_password_async(password_policy.normalise(new))
    async with write(actor, kind="account", target=account) as w:  # one's own account: the session is the check
        account.password_hash = password_hash
        account.must_change_password = False
        await account.save(update_fields=["password_hash", "must_change_password"])
        await end_sessions([account.id], keep_current=True)
        await w.audit("account.change_password", object_name=account.login)


async def reset_password(login: str) -> str:
    """Operator recovery from the command line: a random temporary password that must be changed at next login."""
    account = await Account.get_or_none(login=login)
    if account is None:
        raise NotFound(f"账号 {login} 不存在")
    temporary = secrets.token_urlsafe(9)
    async with write(None, kind="account", target=account) as w:  # the operator at the command line
        account.password_hash = hash_password(temporary)
        account.must_change_password = True
        await account.save()
        await login_throttle.clear_account(login)
        await end_sessions([account.id])
        await w.audit("account.reset_password", login="(cli)", object_name=login)
    return temporary


async def load_actor(
    account_id: int, current_org_id: int | None = None, ip: str = "", session_epoch: int | None = None
) -> Actor | None:
    return await build_actor(account_id, current_org_id, ip, session_epoch)


# -- sessions ----------------------------------------------------------------------------------------------------
# A browser session remembers the account's session_epoch at login; bumping it ends every such session at once, in
# every replica (each action re-reads it). Listeners (the UI) close the open pages of this process right away.

SessionListener = Callable[[int, int, bool], None]
_session_listeners: list[SessionListener] = []


def on_sessions_ended(listener: SessionListener) -> None:
    """``listener(account_id, new_epoch, keep_current)``; idempotent."""
    if listener not in _session_listeners:
        _session_listeners.append(listener)


async def session_epoch(account_id: int) -> int | None:
    row = await Account.get_or_none(id=account_id, is_active=True).values("session_epoch")
    return row["session_epoch"] if row else None


async def end_sessions(account_ids: Iterable[int], *, keep_current: bool = False) -> None:
    """End the sessions of these accounts; ``keep_current`` keeps the browser that asked (a password change).

    Inside a write the epochs move with it; the open pages are closed once it has committed."""
    ids = sorted(set(account_ids))
    if not ids:
        return
    async with write(None) as w:
        await Account.filter(id__in=ids).update(session_epoch=F("session_epoch") + 1)
        epochs = dict(await Account.filter(id__in=ids).values_list("id", "session_epoch"))
        w.after_commit(lambda: _sessions_ended(ids, epochs, keep_current))


def _sessions_ended(ids: list[int], epochs: dict, keep_current: bool) -> None:
    for account_id in ids:
        for listener in list(_session_listeners):
            try:
                listener(account_id, int(epochs.get(account_id, -1)), keep_current)
            except Exception:  # closing pages is a courtesy; the epoch check already refuses them
                log.exception("session listener failed")


async def log_out(actor: Actor) -> None:
    async with write(actor, kind="account") as w:  # one's own session
        await end_sessions([actor.account_id])
        await w.audit("login.logout", object_id=actor.account_id)


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
    initial = await initial_password()
    unit = write(actor, org_id=org.id if org else None, org_name=org.name if org else "", kind="account")
    async with unit as w:  # the caller checked the permission (sub-admins, org binding, department admins)
        account = await Account.get_or_none(login=login)
        if account is None:
            account = await Account.create(
                login=login,
                display_name=display_name,
                password_hash=await hash_password_async(initial),
                must_change_password=True,
            )
            created = True
        grant, _ = await RoleGrant.get_or_create(
            account=account, role=role, org=org, defaults={"person_id": person_id, "dept_ids": dept_ids or []}
        )
        if dept_ids is not None and grant.dept_ids != dept_ids:
            grant.dept_ids = dept_ids
            await grant.save(update_fields=["dept_ids"])
        await w.audit(
            "account.grant_role",
            object_id=account.id,
            object_name=login,
            after={"role": role.value, "dept_ids": dept_ids or []},
            detail=("新建账号，初始密码 123456" if initial == INITIAL_ADMIN_PASSWORD else "新建账号，随机初始密码")
            if created
            else "",
        )
    # Shown once to the admin who created the account (never stored in clear, never logged or audited).
    account.initial_password = initial if created else None  # type: ignore[attr-defined]
    return account, created


_READABLE = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz23456789"


async def initial_password() -> str:
    """系统设置 > 安全设置 > 初始密码: the guide's 123456, or a random one shown once."""
    from app.services import security_settings

    if (await security_settings.load()).initial_password == security_settings.INITIAL_RANDOM:
        # Read out or typed by hand: no look-alikes (0/O, 1/l/I), and always letters with digits.
        while True:
            password = "".join(secrets.choice(_READABLE) for _ in range(12))
            if any(c.isdigit() for c in password) and any(c.isalpha() for c in password):
                return password
    return INITIAL_ADMIN_PASSWORD


async def accounts_with_initial_password(actor: Actor) -> int:
    """For the super admin's home page: accounts that have never changed the password they were given."""
    if not actor.is_super:
        return 0
    return await Account.filter(must_change_password=True, is_active=True).count()


async def revoke_role(actor: Actor | None, *, account_id: int, role: Role, org: Org | None) -> None:
    unit = write(actor, org_id=org.id if org else None, org_name=org.name if org else "", kind="account")
    async with unit as w:  # the caller checked the permission
        deleted = await RoleGrant.filter(account_id=account_id, role=role, org=org).delete()
        if deleted:
            await end_sessions([account_id])
            account = await Account.get(id=account_id)
            await w.audit(
                "account.revoke_role", object_id=account_id, object_name=account.login, before={"role": role.value}
            )
