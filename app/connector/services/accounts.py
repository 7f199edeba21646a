"""The connector's own logins: page administrators (initial ``admin`` / ``1``, forced change) and the todo API
account that business systems use with HTTP Basic for the todo service and ticket redemption."""

from __future__ import annotations

import hashlib
import hmac

from app.connector.models import Admin
from app.connector.services import audit
from app.connector.services import options as options_service
from app.connector.services.errors import ConnectorError
from app.core.security import MAX_PASSWORD_BYTES, hash_password, verify_password

INITIAL_LOGIN = "admin"
INITIAL_PASSWORD = "1"
MAX_FAILURES = 5
MIN_PASSWORD = 8

_verified: dict[str, str] = {}  # account -> sha256(password) last verified, so argon2 runs once per password


async def ensure_initial_admin() -> bool:
    if await Admin.exists():
        return False
    await Admin.create(login=INITIAL_LOGIN, password_hash=hash_password(INITIAL_PASSWORD), must_change=True)
    return True


async def login(name: str, password: str) -> Admin:
    admin = await Admin.get_or_none(login=(name or "").strip())
    if admin is None:
        raise ConnectorError("账号或密码错误", field="password")
    if admin.failed_logins >= MAX_FAILURES:
        raise ConnectorError("密码错误次数过多，账号已锁定；请执行 landing connector --reset-admin", field="password")
    if not verify_password(password or "", admin.password_hash):
        admin.failed_logins += 1
        await admin.save(update_fields=["failed_logins"])
        left = MAX_FAILURES - admin.failed_logins
        raise ConnectorError(f"账号或密码错误，还可尝试 {left} 次" if left else "账号已锁定", field="password")
    admin.failed_logins = 0
    await admin.save(update_fields=["failed_logins"])
    return admin


def check_new_password(new: str, confirm: str) -> None:
    if len(new) < MIN_PASSWORD or not any(c.isdigit() for c in new) or not any(c.isalpha() for c in new):
        raise ConnectorError(f"新密码至少 {MIN_PASSWORD} 位，须同时包含字母和数字", field="new")
    if len(new.encode()) > MAX_PASSWORD_BYTES:
        raise ConnectorError("新密码过长", field="new")
    if new != confirm:
        raise ConnectorError("两次输入的新密码不一致", field="confirm")


async def change_password(admin_id: int, old: str, new: str, confirm: str) -> None:
    admin = await Admin.get(id=admin_id)
    if not verify_password(old or "", admin.password_hash):
        raise ConnectorError("原密码错误", field="old")
    check_new_password(new, confirm)
    if new == old:
        raise ConnectorError("新密码不能与原密码相同", field="new")
    admin.password_hash, admin.must_change = hash_password(new), False
    await admin.save(update_fields=["password_hash", "must_change"])
    await audit.record(admin.id, "修改密码")


async def reset_admin() -> str:
    import secrets

    temporary = secrets.token_urlsafe(9)
    admin = await Admin.get_or_none(login=INITIAL_LOGIN)
    if admin is None:
        await Admin.create(login=INITIAL_LOGIN, password_hash=hash_password(temporary), must_change=True)
    else:
        admin.password_hash, admin.must_change, admin.failed_logins = hash_password(temporary), True, 0
        await admin.save()
    return temporary


# -- the todo API account ------------------------------------------------------------------------------------------


async def api_account() -> str:
    return await options_service.get_value("api_account")


async def set_api_account(account: str, password: str, actor: int | None = None) -> None:
    account = (account or "").strip()
    if not account or len(account) > 64 or ":" in account:
        raise ConnectorError("请填写接口认证账号（最长 64 个字符，不能含冒号）", field="api_account")
    if len(password or "") < MIN_PASSWORD:
        raise ConnectorError(f"接口认证密码至少 {MIN_PASSWORD} 位", field="api_password")
    await options_service.set_value("api_account", account)
    await options_service.set_value("api_password_hash", hash_password(password))
    _verified.clear()
    await audit.record(actor, "修改待办接口认证账号", {"account": account, "password": "已修改"})


async def check_api_credentials(account: str, password: str) -> bool:
    expected = await api_account()
    if not expected or not hmac.compare_digest(expected, account or ""):
        return False
    digest = hashlib.sha256((password or "").encode()).hexdigest()
    if hmac.compare_digest(_verified.get(account, ""), digest):
        return True
    if verify_password(password or "", await options_service.get_value("api_password_hash")):
        _verified[account] = digest
        return True
    return False
