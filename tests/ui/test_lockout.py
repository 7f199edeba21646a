"""Five wrong passwords lock an account for fifteen minutes; messages say so; no stack trace reaches the page."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from nicegui.testing import User

from app.models.accounts import Account
from app.models.audit import AuditLog
from tests.ui.helpers import login


async def test_lockout_after_five_failures(user: User) -> None:
    for attempt in range(1, 5):
        await login(user, "admin", f"wrong{attempt}")
        await user.should_see(f"账号或密码错误，还可尝试 {5 - attempt} 次")
    await login(user, "admin", "wrong5")
    await user.should_see("密码连续错误 5 次，账号已被锁定 15 分钟")
    account = await Account.get(login="admin")
    assert account.locked_until is not None
    assert account.locked_until - datetime.now(UTC) > timedelta(minutes=14)

    # Even the right password is refused while locked, with the remaining time.
    await login(user, "admin", "1")
    await user.should_see("账号已被锁定，请 15 分钟后再试")
    await user.should_not_see("Traceback")
    assert await AuditLog.filter(action="login.locked").count() == 1
    assert await AuditLog.filter(action="login.failed").count() == 4

    # Once the lock has expired the right password works again.
    account.locked_until = datetime.now(UTC) - timedelta(seconds=1)
    await account.save()
    await login(user, "admin", "1")
    await user.should_see("请先修改初始密码")


async def test_unknown_account_gets_the_same_message(user: User) -> None:
    await login(user, "nobody", "whatever")
    await user.should_see("账号或密码错误")
    await login(user, "", "")
    await user.should_see("请输入账号和密码")
