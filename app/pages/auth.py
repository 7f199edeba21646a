"""登录, 修改密码, 选择组织, 退出 (guide 3.2.1, 3.3.1)."""

from __future__ import annotations

from urllib.parse import unquote

from fastapi.responses import RedirectResponse
from nicegui import ui

from app.components import session
from app.components.entity_form import FieldErrors
from app.components.frame import actor, notify_ok, page
from app.components.keyboard import activatable
from app.services import accounts, system_params
from app.services.errors import LoginFailed, ValidationFailed
from app.services.permissions import ROLE_NAMES, SESSION_ENDED_MESSAGE


def _safe_target(redirect_to: str | None) -> str:
    # Only local paths: an open redirect would let a phishing link send admins elsewhere after login.
    target = unquote(redirect_to or "/")
    if not target.startswith("/") or target.startswith("//") or target.startswith("/login"):
        return "/"
    return target


@page("/login", "登录", public=True)
async def login_page(redirect_to: str = "/", ended: str = "") -> None:
    target = _safe_target(redirect_to)

    async def submit() -> None:
        error.set_text("")
        try:
            account = await accounts.authenticate(login.value, password.value, await session.client_address())
        except LoginFailed as exc:
            error.set_text(exc.message)
            password.set_value("")
            return
        await session.log_in(account.id)
        ui.navigate.to(target)

    with ui.column().classes("landing-login-bg w-full items-center justify-center"):
        with ui.card().classes("q-pa-lg").style("width: min(380px, 94vw)"):
            name = await system_params.get_value("system_name", "蓝钉管理平台")
            ui.label(name).classes("text-h5 text-primary self-center").mark("system-name")
            ui.label("Landray 蓝凌").classes("text-grey-6 self-center q-mb-md")
            login = ui.input("账号").props('outlined autofocus autocomplete="username"').classes("w-full").mark("login")
            password = (
                ui.input("密码", password=True, password_toggle_button=True)
                .props('outlined autocomplete="current-password"')
                .classes("w-full")
                .mark("password")
            )
            password.on("keydown.enter", submit)
            error = ui.label(SESSION_ENDED_MESSAGE if ended else "").classes("text-negative").mark("login-error")
            ui.button("登录", on_click=submit).props("unelevated color=primary").classes("w-full")


@page("/logout", "退出", public=True)
async def logout_page() -> RedirectResponse | None:
    # A GET changes nothing (a link on another site must not log anyone out): 退出 happens over this page's own
    # websocket, which refuses other origins.
    if session.account_id() is None:
        return RedirectResponse("/login", status_code=303)
    with ui.column().classes("landing-login-bg w-full items-center justify-center"):
        with ui.card().classes("q-pa-lg items-center").style("width: min(380px, 94vw)"):
            ui.label("确定要退出登录吗？").classes("text-h6")
            ui.label("退出后，该账号在其他浏览器中打开的页面也将需要重新登录。").classes("text-grey-7")
            with ui.row().classes("q-mt-md"):
                ui.button("退出登录", on_click=session.end_this_session).props("unelevated color=primary").mark(
                    "confirm-logout"
                )
                ui.link("返回首页", "/").classes("self-center")
    return None


@page("/change-password", "修改密码")
async def change_password_page(redirect_to: str = "/") -> None:
    target = _safe_target(redirect_to)
    current = actor()
    forced = await accounts.must_change_password(current.account_id)

    errors = FieldErrors(notify=True, fallback="new")

    async def submit() -> None:
        errors.clear()
        try:
            await accounts.change_password(actor(), old.value, new.value, confirm.value)
        except ValidationFailed as exc:
            errors.show(exc)
            return
        notify_ok("密码已修改")
        ui.navigate.to(target if forced else "/")

    with ui.card().classes("landing-card q-pa-lg").style("max-width: 480px"):
        ui.label("修改密码").classes("text-h6")
        if forced:
            ui.label("首次登录或密码已被重置，请先修改初始密码后再继续使用。").classes("text-orange-9 q-mb-sm").mark(
                "forced-change"
            )
        old = ui.input("原密码", password=True).props("outlined").classes("w-full").mark("old")
        new = ui.input("新密码", password=True).props("outlined").classes("w-full").mark("new")
        min_len = await accounts.password_min_length()
        rule = f"至少 {min_len} 位，需同时包含字母和数字，不能是常见密码或账号、姓名、手机号"
        ui.label(rule).classes("landing-hint")
        confirm = ui.input("确认新密码", password=True).props("outlined").classes("w-full").mark("confirm")
        errors.inputs({"old": old, "new": new, "confirm": confirm})
        confirm.on("keydown.enter", submit)
        ui.button("保存", on_click=submit).props("unelevated color=primary")


@page("/select-org", "选择组织")
async def select_org_page(redirect_to: str = "/") -> None:
    target = _safe_target(redirect_to)
    choices = await accounts.org_choices(actor())

    def choose(org_id: int) -> None:
        session.set_org(org_id)
        ui.navigate.to(target)

    ui.label("选择组织").classes("text-h6")
    ui.label("请选择要进入的组织").classes("text-grey-7 q-mb-md")
    if not choices:
        with ui.card().classes("landing-card"):
            ui.label("当前账号还没有可进入的组织。").classes("text-grey-7")
            if actor().is_super:
                ui.link("前往 设置 > 公司信息 创建公司与主组织", "/settings/company")
        return
    with ui.row().classes("gap-4"):
        for choice in choices:
            with ui.card().classes("cursor-pointer q-pa-md").style("width: 260px").mark(f"org-{choice.id}") as card:
                activatable(card, lambda oid=choice.id: choose(oid), label=f"进入 {choice.name}")
                ui.label(choice.name).classes("text-subtitle1 text-weight-medium")
                ui.label(("主组织 · " if choice.is_main else "") + ROLE_NAMES[choice.role]).classes("text-grey-7")
