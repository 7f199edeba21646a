"""首页: what to do next (initialise, create the company) and each organisation at a glance."""

from __future__ import annotations

from nicegui import ui

from app.components.frame import actor, page
from app.services import accounts, home_summary
from app.services.permissions import ROLE_NAMES, Perm

_RESULT_COLOURS = {"成功": "positive", "警告": "warning", "失败": "negative", "进行中": "primary"}


def _next_step(title: str, text: str, button: str, target: str, marker: str) -> None:
    with ui.card().classes("landing-card q-pa-md q-mb-md").mark(marker):
        with ui.row().classes("w-full items-center no-wrap"):
            ui.icon("info", size="28px").classes("text-primary")
            with ui.column().classes("gap-0"):
                ui.label(title).classes("text-subtitle1 text-weight-medium")
                ui.label(text).classes("text-grey-7")
            ui.space()
            ui.button(button, on_click=lambda: ui.navigate.to(target)).props("unelevated color=primary")


@page("/", "首页")
async def home_page() -> None:
    current = actor()
    summary = await home_summary.summary(current)
    role = current.current_role
    with ui.row().classes("items-baseline gap-3"):
        ui.label(f"欢迎，{current.display_name}").classes("text-h6")
        ui.label(ROLE_NAMES[role] if role else "未分配角色").classes("text-grey-7")
        if summary.company_name:
            ui.label(summary.company_name).classes("text-grey-7")
    waiting = await accounts.accounts_with_initial_password(current)
    if waiting:
        with ui.card().classes("landing-card q-pa-md q-mb-md bg-orange-1").mark("initial-password-warning"):
            with ui.row().classes("items-center no-wrap"):
                ui.icon("warning", size="28px").classes("text-orange-9")
                ui.label(
                    f"仍有 {waiting} 个账号在使用初始密码（如 123456）。请提醒其尽快登录并修改密码；"
                    "可在 系统设置 > 安全设置 中改为随机初始密码。"
                ).classes("text-orange-10")
    if current.is_super and not summary.initialised:
        _next_step(
            "系统尚未初始化",
            "新环境需要先执行系统初始化：导入蓝钉默认角色、系统权限等 9 项内容。",
            "去初始化",
            "/settings/init",
            "init-prompt",
        )
    elif current.is_super and not summary.has_company:
        _next_step(
            "还没有公司信息",
            "请先填写公司信息：系统会创建公司和主组织，并从钉钉拉取主管理员和通讯录。",
            "创建公司",
            "/settings/company",
            "company-prompt",
        )
    if not summary.orgs:
        if not current.is_super and current.can(Perm.CONTACTS_VIEW):
            ui.button("进入通讯录", on_click=lambda: ui.navigate.to("/contacts")).props("unelevated color=primary")
        return
    ui.label("组织概况").classes("text-subtitle1 text-weight-medium q-mt-md")
    with ui.row().classes("gap-4 w-full"):
        for org in summary.orgs:
            with ui.card().classes("q-pa-md").style("width: 380px").mark(f"org-card-{org.id}"):
                with ui.row().classes("w-full items-center no-wrap"):
                    ui.label(org.name).classes("text-subtitle1 text-weight-medium")
                    if org.is_main:
                        ui.badge("主组织").props("outline color=primary")
                    ui.space()
                    ui.badge(f"回调{org.callback}").props(
                        f"outline color={'positive' if org.callback == '成功' else 'grey'}"
                    )
                with ui.row().classes("gap-8 q-mt-sm"):
                    for label, value in (("部门", org.departments), ("人员", org.people)):
                        with ui.column().classes("gap-0"):
                            ui.label(label).classes("text-grey-7")
                            ui.label(f"{value:,}").classes("text-h5")
                with ui.row().classes("items-center gap-2 q-mt-sm"):
                    ui.label("最近同步").classes("text-grey-7")
                    ui.badge(org.last_sync_result).props(f"color={_RESULT_COLOURS.get(org.last_sync_result, 'grey')}")
                    if org.last_sync_at:
                        ui.label(f"{org.last_sync_at.astimezone():%Y-%m-%d %H:%M}").classes("text-grey-7")
                if org.last_sync_summary:
                    ui.label(org.last_sync_summary).classes("landing-hint").style("line-height: 1.5")
