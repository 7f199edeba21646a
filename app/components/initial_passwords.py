"""The random initial password of a new admin account, shown once to the admin who created it.

With 系统设置 > 初始密码 = 随机, the password exists in clear only in this dialog: it is not stored, logged or
audited. With the guide's 123456 the callers say so in a line of text instead.
"""

from __future__ import annotations

from nicegui import ui

from app.services.accounts import INITIAL_ADMIN_PASSWORD


def is_random(password: str | None) -> bool:
    return bool(password) and password != INITIAL_ADMIN_PASSWORD


async def show_once(title: str, passwords: dict[str, str]) -> None:
    """A persistent dialog listing login -> password; returns when the admin has closed it."""
    with ui.dialog().props("persistent") as dialog, ui.card().mark("initial-passwords"):
        ui.label(title).classes("text-h6")
        ui.label("以下初始密码只显示这一次，请妥善告知本人；首次登录须修改。").classes("text-orange-9")
        for login, password in passwords.items():
            ui.label(f"{login}：{password}").classes("text-subtitle1").style("font-family: monospace").mark(
                f"initial-password-{login}"
            )
        ui.button("我已记下", on_click=lambda: dialog.submit(True)).props("unelevated color=primary").mark(
            "initial-passwords-ok"
        )
    await dialog
