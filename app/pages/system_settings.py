"""设置 > 系统设置: system parameters such as 服务器DNS(外网), the default callback domain."""

from __future__ import annotations

from nicegui import ui

from app.components.frame import actor, empty_state, notify_error, notify_ok, page, page_title
from app.services import system_params
from app.services.errors import ServiceError
from app.services.permissions import Perm

_HINTS = {
    "server_dns": "蓝钉管理平台的外网访问地址；新建组织时默认作为回调地址(域名)。",
    "login_max_failures": "连续输错密码达到次数后锁定账号。",
}


@page("/settings/system", "系统设置", section="settings", perm=Perm.SYSTEM_SETTINGS)
async def system_settings_page() -> None:
    page_title("系统设置")
    params = await system_params.list_params(actor())
    if not params:
        empty_state("尚未执行系统初始化，暂无系统参数。请先到「系统初始化」执行初始化。")
        return
    inputs: dict[str, ui.input] = {}
    with ui.card().classes("landing-card q-pa-md").style("max-width: 760px"):
        for param in params:
            field = ui.input(param.label, value=str(param.value)).props("outlined").classes("w-full").mark(param.key)
            inputs[param.key] = field
            if param.key in _HINTS:
                ui.label(_HINTS[param.key]).classes("landing-hint q-mb-sm")

        async def save() -> None:
            for field in inputs.values():
                field.props(remove="error error-message")
            try:
                changed = await system_params.update(actor(), {k: f.value for k, f in inputs.items()})
            except ServiceError as exc:  # ValidationFailed next to its field; a session ended elsewhere too
                if exc.field in inputs:
                    inputs[exc.field].props(f'error error-message="{exc.message}"')
                notify_error(exc.message)
                return
            notify_ok(f"已保存，{changed} 项有变化" if changed else "没有需要保存的修改")

        ui.button("保存", on_click=save).props("unelevated color=primary").mark("save-params")
