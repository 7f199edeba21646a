"""登录, 修改密码 (the initial admin must change ``1`` first), 退出."""

from __future__ import annotations

from urllib.parse import unquote

from fastapi.responses import RedirectResponse
from nicegui import ui

from app.connector.pages.frame import clear_errors, current_admin, field_error, log_in, log_out, notify_ok, page
from app.connector.services import accounts
from app.connector.services.errors import ConnectorError


def _safe(target: str) -> str:
    target = unquote(target or "/")
    return target if target.startswith("/") and not target.startswith("//") and "login" not in target else "/"


@page("/login", "登录", public=True)
async def login_page(redirect_to: str = "/") -> None:
    async def submit() -> None:
        error.set_text("")
        try:
            admin = await accounts.login(name.value, password.value)
        except ConnectorError as exc:
            error.set_text(exc.message)
            password.set_value("")
            return
        log_in(admin.id)
        ui.navigate.to("/password" if admin.must_change else _safe(redirect_to))

    with ui.column().classes("landing-login-bg w-full items-center justify-center"):
        with ui.card().classes("q-pa-lg").style("width: 380px"):
            ui.label("蓝钉集成组件").classes("text-h5 text-primary self-center")
            ui.label("业务系统对接蓝钉管理平台与钉钉").classes("text-grey-6 self-center q-mb-md")
            name = ui.input("账号").props("outlined autofocus").classes("w-full")
            password = ui.input("密码", password=True, password_toggle_button=True).props("outlined").classes("w-full")
            password.on("keydown.enter", submit)
            error = ui.label("").classes("text-negative")
            ui.button("登录", on_click=submit).props("unelevated color=primary").classes("w-full")


@page("/logout", "退出", public=True)
async def logout_page() -> RedirectResponse:
    log_out()
    return RedirectResponse("/login", status_code=303)


@page("/password", "修改密码")
async def password_page() -> None:
    async def submit() -> None:
        clear_errors(old, new, again)
        try:
            await accounts.change_password(current_admin(), old.value, new.value, again.value)
        except ConnectorError as exc:
            field_error({"old": old, "new": new, "confirm": again}.get(exc.field, new), exc.message)
            return
        notify_ok("密码已修改")
        ui.navigate.to("/")

    ui.label("首次登录须修改初始密码；新密码至少 8 位，包含字母和数字。").classes("landing-hint")
    with ui.card().classes("landing-form-row q-pa-md"):
        old = ui.input("原密码", password=True).props("outlined").classes("w-full")
        new = ui.input("新密码", password=True).props("outlined").classes("w-full")
        again = ui.input("确认新密码", password=True).props("outlined").classes("w-full")
        ui.button("保存", on_click=submit).props("unelevated color=primary")
