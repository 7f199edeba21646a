"""设置 > 系统设置: system parameters such as 服务器DNS(外网), the default callback domain."""

from __future__ import annotations

from nicegui import ui

from app.components.entity_form import FieldErrors
from app.components.field_error import set_field_error
from app.components.frame import actor, empty_state, notify_error, notify_ok, page, page_title
from app.core import localtime
from app.services import security_settings, system_params
from app.services.errors import ServiceError, ValidationFailed
from app.services.permissions import Perm

_HINTS = {
    "server_dns": "蓝钉管理平台的外网访问地址；新建组织时默认作为回调地址(域名)。",
    "login_max_failures": "连续输错密码达到次数后锁定账号。",
}


@page("/settings/system", "系统设置", section="settings", perm=Perm.SYSTEM_SETTINGS, menu=("settings.system", 30))
async def system_settings_page() -> None:
    page_title("系统设置")
    await _time_zone_card()
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

        errors = FieldErrors(notify=True)
        errors.inputs(inputs)

        async def save() -> None:
            errors.clear()
            try:
                changed = await system_params.update(actor(), {k: f.value for k, f in inputs.items()})
            except ServiceError as exc:  # ValidationFailed next to its field; a session ended elsewhere too
                errors.show(exc)
                return
            notify_ok(f"已保存，{changed} 项有变化" if changed else "没有需要保存的修改")

        ui.button("保存", on_click=save).props("unelevated color=primary").mark("save-params")
    await security_block()


# -- 时区 ---------------------------------------------------------------------------------------------------------
# Its own card (a picker, not a free-text parameter): every time on every page, in downloads and the cron schedule
# follows it.


async def _time_zone_card() -> None:
    current = await system_params.get_time_zone(actor())
    with ui.card().classes("landing-card q-pa-md q-mb-md").style("max-width: 760px").mark("time-zone-card"):
        ui.label("时区").classes("text-subtitle1 text-weight-medium")
        with ui.row().classes("w-full items-start no-wrap gap-3"):
            picker = (
                ui.select(localtime.all_zones(), value=current, with_input=True, label="显示时区")
                .props("outlined")
                .classes("col")
                .mark("time_zone")
            )
            hint = ui.label(f"当前：{localtime.label()}，现在 {localtime.fmt(localtime.now())}").classes(
                "landing-hint q-mt-md"
            )

            async def save_zone() -> None:
                set_field_error(picker, None)
                try:
                    changed = await system_params.set_time_zone(actor(), picker.value or "")
                except ValidationFailed as exc:
                    set_field_error(picker, exc.message)
                    notify_error(exc.message)
                    return
                hint.text = f"当前：{localtime.label()}，现在 {localtime.fmt(localtime.now())}"
                notify_ok(f"时区已改为 {localtime.zone_name()}" if changed else "没有需要保存的修改")

            ui.button("应用时区", on_click=save_zone).props("unelevated color=primary").classes("q-mt-sm").mark(
                "save-time-zone"
            )
        ui.label("页面显示的时间、下载文件中的时间和同步 Cron 表达式都按此时区计算；数据库始终保存 UTC 时间。").classes(
            "landing-hint"
        )


# -- 安全设置 (a separate block: trusted proxies, allowed internal ranges, 初始密码, /metrics token) -----------------


async def security_block() -> None:
    view = await security_settings.get_view(actor())
    with ui.card().classes("landing-card q-pa-md q-mt-md").style("max-width: 760px").mark("security-settings"):
        ui.label("安全设置").classes("text-subtitle1 text-weight-medium")
        ranges = (
            ui.textarea("出站访问允许的内网地址段", value=view.allowed_ranges)
            .props("outlined autogrow")
            .classes("w-full")
            .mark("allowed_ranges")
        )
        ui.label(
            "蓝钉会拒绝访问本机、内网、链路本地（含云主机元数据）等地址，以免接入系统或管理员填写的地址被用来探测内网。"
            "确需访问内网系统（如本地部署的 EKP）时，在此填写其网段，每行一个，如 10.1.0.0/16。"
        ).classes("landing-hint q-mb-sm")
        proxies = (
            ui.textarea("受信任的代理", value=view.trusted_proxies)
            .props("outlined autogrow")
            .classes("w-full")
            .mark("trusted_proxies")
        )
        ui.label(
            "仅当请求来自这些地址（反向代理）时，才采用 X-Forwarded-For 中的客户端地址。每行一个地址或网段。"
        ).classes("landing-hint q-mb-sm")
        initial = (
            ui.select(view.initial_choices, value=view.initial_password, label="初始密码")
            .props("outlined")
            .classes("w-full")
            .mark("initial_password")
        )
        ui.label("新建管理员账号时使用的初始密码；首次登录必须修改。").classes("landing-hint q-mb-sm")
        token = (
            ui.input(
                "/metrics 访问令牌",
                password=True,
                placeholder=f"已设置（{view.metrics_token_masked}），不修改请留空"
                if view.metrics_token_masked
                else "未设置",
            )
            .props("outlined")
            .classes("w-full")
            .mark("metrics_token")
        )
        clear_token = ui.checkbox("取消访问令牌（/metrics 不再需要认证）").mark("clear_metrics_token")
        clear_token.set_visibility(bool(view.metrics_token_masked))
        ui.label("设置后，/metrics 仅接受 Authorization: Bearer <令牌> 的请求。至少 16 个字符。").classes(
            "landing-hint"
        )
        fields = {
            "allowed_ranges": ranges,
            "trusted_proxies": proxies,
            "initial_password": initial,
            "metrics_token": token,
        }

        security_errors = FieldErrors(notify=True)
        security_errors.inputs(fields)

        async def save() -> None:
            security_errors.clear()
            new_token = "" if clear_token.value else (token.value or None)
            try:
                await security_settings.save(
                    actor(),
                    allowed_ranges=ranges.value or "",
                    trusted_proxies=proxies.value or "",
                    initial_password=initial.value,
                    metrics_token=new_token,
                )
            except ServiceError as exc:
                security_errors.show(exc)
                return
            token.set_value("")
            notify_ok("安全设置已保存")

        ui.button("保存安全设置", on_click=save).props("unelevated color=primary").mark("save-security")
