"""Read-only tabs of 设置 > 专属钉钉: what is set in 钉钉管理后台 (guide 2.3, 2.4, 2.5) and the 2.5.8 IdP state."""

from __future__ import annotations

from nicegui import ui

from app.components.frame import actor
from app.services import exclusive_console
from app.services.exclusive_console import ConsoleSection


def _where(path: str) -> None:
    with ui.row().classes("items-center gap-1 no-wrap"):
        ui.icon("open_in_new", size="16px").classes("text-primary")
        ui.label(f"在 {path} 中设置").classes("text-primary text-caption")


def section_card(section: ConsoleSection) -> None:
    with ui.card().props("flat bordered").classes("landing-card q-pa-md q-mb-md").mark(f"console-{section.number}"):
        ui.label(f"{section.number} {section.title}").classes("text-subtitle1 text-weight-medium")
        ui.label(section.summary).classes("text-grey-8")
        _where(section.path)
        columns = [
            {"name": f"c{i}", "label": label, "field": f"c{i}", "align": "left"}
            | ({"headerStyle": "width: 240px"} if i == 0 else {})
            for i, label in enumerate(section.columns)
        ]
        rows = [{f"c{i}": value for i, value in enumerate(row)} for row in section.rows]
        ui.table(columns=columns, rows=rows).props("flat dense hide-pagination :rows-per-page-options=[0]").classes(
            "w-full q-mt-sm"
        )


def console_sections(numbers: tuple[str, ...], *, intro: bool = True) -> None:
    if intro:
        ui.label(
            "以下设置钉钉开放平台没有开放接口，只能由管理员在钉钉管理后台中开启或关闭；"
            "这里列出每项所在的位置，不在本平台切换。"
        ).classes("text-grey-7 q-mb-sm")
    for section in exclusive_console.SECTIONS:
        if section.number in numbers:
            section_card(section)


def _value(label: str, value: str, marker: str, *, copy: bool = True) -> None:
    with ui.row().classes("w-full no-wrap items-center q-py-xs"):
        ui.label(label).classes("text-grey-7").style("width: 150px; min-width: 150px")
        ui.label(value or "—").style("word-break: break-all; font-family: monospace").mark(marker)
        if value and copy:
            ui.button(icon="content_copy", on_click=lambda v=value: ui.clipboard.write(v)).props(
                "flat dense round size=sm"
            ).tooltip("复制")


async def idp_card(org_id: int) -> None:
    state = await exclusive_console.idp_state(actor(), org_id)
    with ui.card().props("flat bordered").classes("landing-card q-pa-md q-mb-md").mark("console-2.5.8"):
        ui.label("2.5.8 帐号登录：专属登录二次验证").classes("text-subtitle1 text-weight-medium")
        ui.label(
            "配置专属钉钉的登录方式，是否需要进行域账号的二次验证：专属钉钉登录通过IDP系统二次验证登录身份。"
        ).classes("text-grey-8")
        _where(exclusive_console.IDP_CONSOLE_PATH)
        colour = "text-positive" if state.ready else "text-warning"
        with ui.row().classes("items-center gap-2 q-mt-sm"):
            ui.icon("verified_user" if state.ready else "warning", size="20px").classes(colour)
            ui.label(state.summary).classes(colour).mark("idp-state")
        ui.label(
            f"IDP 即本平台的域账号登录（设置 > 登录认证）。在 {exclusive_console.SSO_CONSOLE_PATH} 中填写以下值："
        ).classes("text-grey-7 q-mt-sm")
        _value("Issuer", state.endpoints.get("issuer", ""), "idp-issuer")
        _value("Client ID", state.client_id, "idp-client-id")
        secret = "已生成（在 设置 > 登录认证 中查看或重新生成）" if state.client_secret_set else ""
        _value("Client Secret", secret, "idp-secret", copy=False)
        _value("回调地址", "\n".join(state.redirect_uris), "idp-redirect")
        _value("发现地址", state.endpoints.get("discovery", ""), "idp-discovery")
        if state.can_configure:
            ui.link("前往 设置 > 登录认证", "/settings/login-auth").mark("idp-link")
        else:
            ui.label("域账号登录由超级管理员在 设置 > 登录认证 中配置。").classes("landing-hint")
