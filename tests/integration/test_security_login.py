"""Login that strangers cannot abuse (issue 13, items 3, 4 and 9), against a real database."""

from __future__ import annotations

import asyncio

import pytest

from app.models.accounts import Account, Role
from app.models.system import SystemParam
from app.services import accounts, security_settings
from app.services.errors import LoginFailed, ValidationFailed
from tests import factories

STRANGER = "203.0.113.7"
OWNER = "198.51.100.20"


async def _attempt(login: str, password: str, ip: str) -> str:
    try:
        await accounts.authenticate(login, password, ip)
    except LoginFailed as exc:
        return exc.message
    return "ok"


async def test_a_stranger_cannot_lock_the_owner_out(orm) -> None:
    await accounts.ensure_bootstrap_admin()
    answers = [await _attempt("admin", f"guess{i}", STRANGER) for i in range(6)]
    assert answers[:2] == ["账号或密码错误", "账号或密码错误"]
    assert answers[4].startswith("登录失败次数过多")
    assert answers[5].startswith("登录失败次数过多")  # the stranger's address stays locked ...
    assert await _attempt("admin", "1", STRANGER) != "ok"
    assert await _attempt("admin", "1", OWNER) == "ok"  # ... the owner logs in from elsewhere


async def test_unknown_accounts_get_exactly_the_same_answers(orm) -> None:
    await accounts.ensure_bootstrap_admin()
    known = [await _attempt("admin", f"guess{i}", STRANGER) for i in range(6)]
    unknown = [await _attempt("nobody", f"guess{i}", STRANGER) for i in range(6)]
    assert known == unknown
    assert not any("不存在" in a for a in unknown)


async def test_spraying_from_one_address_meets_growing_delays(orm) -> None:
    await accounts.ensure_bootstrap_admin()
    answers = [await _attempt(f"user{i}", "password1", STRANGER) for i in range(14)]
    assert any("过于频繁" in a or "次数过多" in a for a in answers[10:])
    assert await _attempt("admin", "1", OWNER) == "ok"


async def test_the_settings_lockout_count_takes_effect(orm) -> None:
    await accounts.ensure_bootstrap_admin()
    await SystemParam.create(key="login_max_failures", label="登录失败锁定次数", value={"value": 3})
    answers = [await _attempt("admin", f"guess{i}", STRANGER) for i in range(3)]
    assert answers[2].startswith("登录失败次数过多")


async def test_password_checks_leave_the_event_loop_free(orm) -> None:
    """Five logins at once: the loop keeps turning while the argon2 checks run in their thread pool."""
    await accounts.ensure_bootstrap_admin()
    ticks = 0
    done = asyncio.Event()

    async def ticker() -> None:
        nonlocal ticks
        while not done.is_set():
            ticks += 1
            await asyncio.sleep(0)

    task = asyncio.create_task(ticker())
    await asyncio.gather(*(_attempt("admin", f"guess{i}", f"192.0.2.{i}") for i in range(5)))
    done.set()
    await task
    # Run on the loop, each check would block it: the ticker would get about one turn per login.
    assert ticks > 50


async def test_a_login_without_any_role_is_refused_with_a_clear_message(orm) -> None:
    org = await factories.org("叮当科技", "corpA", is_main=True)
    account = await factories.account("lonely", Role.SUB_ADMIN, org)
    from app.models.accounts import RoleGrant

    await RoleGrant.filter(account_id=account.id).delete()
    assert "没有任何管理角色" in await _attempt("lonely", factories.PASSWORD, OWNER)


async def test_forwarded_for_is_trusted_only_from_listed_proxies(orm) -> None:
    await accounts.ensure_bootstrap_admin()
    admin = await accounts.load_actor(1)
    assert await security_settings.client_address(STRANGER, "10.9.9.9") == STRANGER
    await security_settings.save(admin, allowed_ranges="", trusted_proxies="10.0.0.0/8", initial_password="fixed")
    assert await security_settings.client_address(STRANGER, "10.9.9.9") == STRANGER  # not from a proxy
    assert await security_settings.client_address("10.0.0.2", f"1.2.3.4, {OWNER}") == OWNER
    assert await security_settings.client_address("10.0.0.2", f"{OWNER}, 10.0.0.3") == OWNER


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("short1", "至少 8 位"),
        ("password123", "常见密码"),
        ("Qwerty123!", "常见密码"),
        ("pass\u200bword1", "常见密码"),  # a zero-width space does not make a common password new
        ("zhangsan2026", "账号、姓名或手机号"),
        ("x13800138000", "账号、姓名或手机号"),
    ],
)
async def test_new_passwords_are_checked(orm, password: str, reason: str) -> None:
    org = await factories.org("叮当科技", "corpA", is_main=True)
    from app.models.contacts import Department, Person

    root = await Department.get(org_id=org.id)
    await Person.create(org=org, name="张三", main_dept=root, login_name="zhangsan", mobile="+86-13800138000")
    account = await factories.account("zhangsan", Role.SUB_ADMIN, org)
    actor = await accounts.load_actor(account.id)
    with pytest.raises(ValidationFailed, match=reason):
        await accounts.change_password(actor, factories.PASSWORD, password, password)
    assert (await Account.get(id=account.id)).password_hash == account.password_hash


async def test_the_settings_minimum_length_takes_effect(orm) -> None:
    org = await factories.org("叮当科技", "corpA", is_main=True)
    account = await factories.account("sub", Role.SUB_ADMIN, org)
    await SystemParam.create(key="password_min_length", label="密码最小长度", value={"value": 14})
    actor = await accounts.load_actor(account.id)
    with pytest.raises(ValidationFailed, match="至少 14 位"):
        await accounts.change_password(actor, factories.PASSWORD, "Tulip-Orbit-9", "Tulip-Orbit-9")
    await accounts.change_password(actor, factories.PASSWORD, "Tulip-Orbit-93x", "Tulip-Orbit-93x")
