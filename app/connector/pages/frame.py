"""The connector's page shell: login check, forced password change, header with the section 4 menu."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from urllib.parse import quote

from fastapi.responses import RedirectResponse
from nicegui import app, ui

from app.components import theme
from app.components.field_error import set_field_error
from app.connector import runtime
from app.connector.services import accounts_view

MENU = (
    ("/", "首页"),
    ("/config", "集成配置"),
    ("/mapping", "通讯录映射表"),
    ("/logs", "接口日志"),
    ("/errors", "钉钉集成异常信息"),
    ("/audit", "操作日志"),
)
SESSION_KEY = "connector_admin"


def current_admin() -> int | None:
    return app.storage.user.get(SESSION_KEY)


def running() -> runtime.ConnectorRuntime:
    """The connector's started runtime, which pages hand to the services that need it: services never look it up."""
    return runtime.get()


def log_in(admin_id: int) -> None:
    app.storage.user[SESSION_KEY] = admin_id


def log_out() -> None:
    app.storage.user.pop(SESSION_KEY, None)


def notify_ok(text: str) -> None:
    ui.notify(text, type="positive", position="top")


def notify_error(text: str) -> None:
    ui.notify(text, type="negative", position="top", multi_line=True)


def field_error(widget, message: str) -> None:
    set_field_error(widget, message)  # as a prop value: quotes and markup in a message show as typed


def clear_errors(*widgets) -> None:
    for widget in widgets:
        set_field_error(widget, None)


def confirm(title: str, text: str, on_yes: Callable, button: str = "确定") -> None:
    with ui.dialog() as dialog, ui.card().style("min-width: 360px"):
        ui.label(title).classes("text-h6")
        ui.label(text).classes("text-grey-8")
        with ui.row().classes("w-full justify-end"):
            ui.button("取消", on_click=dialog.close).props("flat")

            async def yes() -> None:
                dialog.close()
                result = on_yes()
                if inspect.isawaitable(result):
                    await result

            ui.button(button, on_click=yes).props("unelevated color=negative").mark("confirm-yes")
    dialog.open()


def _header(path: str) -> None:
    header = ui.header(elevated=False).classes("landing-header items-center gap-0 no-wrap")
    with header.style("padding: 0 16px"):
        ui.link("蓝钉集成组件", "/").classes("landing-brand")
        with ui.row().classes("gap-0 no-wrap"):
            for target, label in MENU:
                active = " landing-nav-active" if target == path else ""
                ui.link(label, target).classes("landing-nav" + active)
        ui.space()
        with ui.row().classes("gap-0 no-wrap"):
            ui.link("修改密码", "/password").classes("landing-nav")
            ui.link("退出", "/logout").classes("landing-nav")


def page(path: str, title: str, *, public: bool = False):
    """A page of the connector; non-public pages require a logged-in administrator who changed the initial password."""

    def decorate(func):
        @ui.page(path, title=f"{title} - 蓝钉集成组件")
        @functools.wraps(func)
        async def wrapper(*args, **kwargs):
            theme.apply()
            if not public:
                admin_id = current_admin()
                if admin_id is None or not await accounts_view.exists(admin_id):
                    return RedirectResponse(f"/login?redirect_to={quote(path)}", status_code=303)
                if path != "/password" and await accounts_view.must_change(admin_id):
                    return RedirectResponse("/password", status_code=303)
                _header(path)
                with ui.column().classes("landing-content w-full gap-3"):
                    ui.label(title).classes("text-h6 landing-page-title")
                    return await func(*args, **kwargs)
            return await func(*args, **kwargs)

        return wrapper

    return decorate
