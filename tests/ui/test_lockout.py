"""Five wrong passwords from one address lock that (account, address) pair; the messages never say more than needed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from nicegui.testing import User

from app.models.audit import AuditLog
from app.models.security import LoginThrottle
from tests.ui.helpers import login


async def test_lockout_after_five_failures(user: User) -> None:
    for attempt in (1, 2):
        await login(user, "admin", f"wrong{attempt}")
        await user.should_see("账号或密码错误")
        await user.should_not_see("还可尝试")
    for attempt, left in ((3, 2), (4, 1)):
        await login(user, "admin", f"wrong{attempt}")
        await user.should_see(f"账号或密码错误，还可尝试 {left} 次")
    await login(user, "admin", "wrong5")
    await user.should_see("登录失败次数过多，请 15 分钟后再试")
    pair = await LoginThrottle.get(key__startswith="pair:admin|")
    assert pair.blocked_until is not None and pair.blocked_until - datetime.now(UTC) > timedelta(minutes=14)

    # Even the right password is refused from this address while the pair is locked.
    await login(user, "admin", "1")
    await user.should_see("登录失败次数过多，请 15 分钟后再试")
    await user.should_not_see("Traceback")
    assert await AuditLog.filter(action="login.locked").count() == 1
    assert await AuditLog.filter(action="login.failed").count() == 5

    # Once the lock has expired the right password works again.
    pair.blocked_until = datetime.now(UTC) - timedelta(seconds=1)
    await pair.save()
    await login(user, "admin", "1")
    await user.should_see("请先修改初始密码")


async def test_unknown_account_gets_the_same_message(user: User) -> None:
    await login(user, "nobody", "whatever")
    await user.should_see("账号或密码错误")
    await login(user, "", "")
    await user.should_see("请输入账号和密码")
