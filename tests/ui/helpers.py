"""Steps that many UI tests share."""

from __future__ import annotations

from nicegui.testing import User

STRONG = "Landing2026x"


async def login(user: User, login: str, password: str, expect: str | None = None) -> None:
    await user.open("/login")
    user.find(marker="login").type(login)
    user.find(marker="password").type(password)
    user.find("登录").click()
    if expect:
        await user.should_see(expect)


async def change_initial_password(user: User, old: str, new: str = STRONG) -> None:
    await user.should_see("请先修改初始密码")
    user.find(marker="old").type(old)
    user.find(marker="new").type(new)
    user.find(marker="confirm").type(new)
    user.find("保存").click()
    await user.should_not_see("请先修改初始密码", retries=50)


async def eventually(check, *, within: float = 20.0) -> None:
    """Wait until ``await check()`` is true (a generous deadline; never a fixed sleep)."""
    import asyncio

    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not await check():
        if loop.time() > deadline:
            raise AssertionError("condition not met before the deadline")
        await asyncio.sleep(0.05)
