"""首页: what to do next (initialise, create the company) and the current org at a glance."""

from __future__ import annotations

from nicegui import ui

from app.components.frame import actor, page
from app.services import home_summary
from app.services.permissions import ROLE_NAMES


@page("/", "首页")
async def home_page() -> None:
    current = actor()
    summary = await home_summary.summary(current)
    ui.label(f"欢迎，{current.display_name}").classes("text-h6")
    role = current.current_role
    ui.label(ROLE_NAMES[role] if role else "未分配角色").classes("text-grey-7 q-mb-md")
    if current.is_super and not summary.initialised:
        with ui.card().classes("landing-card q-pa-md").mark("init-prompt"):
            ui.label("系统尚未初始化").classes("text-subtitle1 text-weight-medium")
            ui.label("新环境需要先执行系统初始化：导入蓝钉默认角色、系统权限等 9 项内容。").classes("text-grey-7")
            ui.button("去初始化", on_click=lambda: ui.navigate.to("/settings/init")).props("unelevated color=primary")
    elif current.is_super and not summary.has_company:
        with ui.card().classes("landing-card q-pa-md").mark("company-prompt"):
            ui.label("还没有公司信息").classes("text-subtitle1 text-weight-medium")
            ui.label("请先填写公司信息，系统会创建公司和主组织，并从钉钉拉取主管理员和通讯录。").classes("text-grey-7")
            ui.button("创建公司", on_click=lambda: ui.navigate.to("/settings/company")).props(
                "unelevated color=primary"
            )
    with ui.row().classes("gap-4 q-mt-md"):
        for label, value in summary.tiles:
            with ui.card().classes("q-pa-md").style("min-width: 180px"):
                ui.label(label).classes("text-grey-7")
                ui.label(str(value)).classes("text-h5")
