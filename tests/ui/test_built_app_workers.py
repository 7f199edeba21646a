"""The app that ``build()`` wires (the one ``landing serve`` runs) starts exactly the workers ``WORKERS`` lists."""

from __future__ import annotations

from nicegui.testing import User

from app import main, runtime


async def test_the_built_app_runs_exactly_the_listed_workers(user: User) -> None:
    await user.open("/login")  # starts the app: database, runtime and workers
    await user.should_see("登录")
    assert runtime.get().tasks.supervised() == [w.name for w in main.WORKERS]
