"""4.1 集成配置: 基础配置 (绑定 / 重新绑定 / 解除绑定), 登录配置 (4.1.1, 4.1.2) and 待办通知配置 (4.1.3-4.1.8)."""

from __future__ import annotations

from nicegui import ui

from app.connector.pages.frame import (
    clear_errors,
    confirm,
    current_admin,
    field_error,
    notify_error,
    notify_ok,
    page,
    running,
)
from app.connector.services import accounts, binding, mapping
from app.connector.services import options as options_service
from app.connector.services.errors import ConnectorError


def _row(label: str, value: str, mark: str = "") -> None:
    with ui.row().classes("w-full items-center q-py-xs"):
        ui.label(label).classes("text-grey-7").style("width: 160px")
        widget = ui.label(value or "—")
        if mark:
            widget.mark(mark)


async def _binding_panel() -> None:
    current = await binding.current()

    async def do_bind(url_input, id_input, button) -> None:
        clear_errors(url_input, id_input)
        button.props("loading")
        try:
            await binding.bind(url_input.value, id_input.value, current_admin(), rt=running())
        except ConnectorError as exc:
            field_error(id_input if exc.field == "identifier" else url_input, exc.message)
            notify_error(exc.message)
            return
        finally:
            button.props(remove="loading")
        try:
            result = await mapping.pull(rt=running(), full=True, actor=current_admin())
            notify_ok("绑定成功；" + result.summary())
        except ConnectorError as exc:
            notify_error(f"绑定成功，但更新通讯录失败：{exc.message}")
        ui.navigate.reload()

    def bind_form(default_url: str = "") -> None:
        url_input = ui.input("管理平台地址", value=default_url, placeholder="http://lding.example.com")
        url_input.props("outlined").classes("landing-form-row").mark("console-url")
        ui.label("填写蓝钉管理台的链接").classes("landing-hint")
        id_input = ui.input("接入标识").props("outlined").classes("landing-form-row").mark("identifier")
        ui.label("填写「蓝钉管理平台 > 设置 > 组织信息 > 接入系统」中新建的接入标识").classes("landing-hint")
        button = ui.button("绑定").props("unelevated color=primary")
        button.on_click(lambda: do_bind(url_input, id_input, button))

    if current is None:
        ui.label("开启蓝钉对接：填写信息后绑定蓝钉管理平台，对接钉钉的参数从管理平台获取。").classes("text-grey-8")
        bind_form()
        return
    view = binding.view(current)
    ui.label("已绑定蓝钉管理平台").classes("text-positive text-subtitle1").mark("bound")
    _row("管理平台地址", view.console_url)
    _row("接入标识", view.identifier)
    _row("组织名称", view.org_name, "org-name")
    _row("CorpId", view.corp_id, "corp-id")
    _row("AgentId", view.agent_id)
    _row("AppKey", view.app_key)
    _row("AppSecret", view.app_secret_masked, "app-secret")
    _row("扫码登录 appid", view.scan_app_id)
    _row("接收通知接口", view.notify_url)
    _row("绑定时间", f"{view.bound_at:%Y-%m-%d %H:%M:%S}")

    async def unbind() -> None:
        try:
            await binding.unbind(current_admin(), rt=running())
        except ConnectorError as exc:
            notify_error(exc.message)
            return
        notify_ok("已解除绑定")
        ui.navigate.reload()

    with ui.dialog() as rebind_dialog, ui.card().style("min-width: 480px"):
        ui.label("重新绑定").classes("text-h6")
        ui.label("使用管理平台中重新启用或新建的接入标识。").classes("landing-hint")
        bind_form(view.console_url)
    with ui.row().classes("q-mt-md"):
        ui.button("重新绑定", on_click=rebind_dialog.open).props("outline color=primary")
        ui.button(
            "解除绑定",
            on_click=lambda: confirm(
                "解除绑定", "解除后将删除通讯录映射表，免登录和待办推送停止工作。确定解除？", unbind, "解除绑定"
            ),
        ).props("outline color=negative")


async def _login_panel(opts: options_service.Options, bound_agent: str) -> None:
    free = ui.switch("EKP 免登录", value=opts.free_login_enabled).mark("free-login")
    ui.label("开启后用户在钉钉中打开业务系统不需要再登录。入口：/sso/dingtalk").classes("landing-hint")
    scan = ui.switch("EKP 扫码登录", value=opts.scan_login_enabled)
    mode = ui.radio(options_service.SCAN_MODES, value=opts.scan_login_mode).props("inline")
    ui.label("PC 端扫码登录入口：/sso/scan；旧版使用绑定时获得的扫码登录 appid / appsecret。").classes("landing-hint")
    redirect = ui.input("登录回调地址", value=opts.sso_redirect_url, placeholder="http://ekp.example.com/sso/lding")
    redirect.props("outlined").classes("landing-form-row")
    ui.label("登录成功后浏览器带一次性票据 ldTicket 跳转到此地址，业务系统服务端兑换票据得到登录名。").classes(
        "landing-hint"
    )

    async def save() -> None:
        clear_errors(redirect)
        opts.free_login_enabled, opts.scan_login_enabled = free.value, scan.value
        opts.scan_login_mode, opts.sso_redirect_url = mode.value, redirect.value or ""
        try:
            await options_service.save(opts, bound_agent, current_admin(), rt=running())
        except ConnectorError as exc:
            field_error(redirect, exc.message)
            return
        notify_ok("登录配置已保存")

    ui.button("保存", on_click=save).props("unelevated color=primary")
    ui.separator().classes("q-my-md")
    ui.label("待办接口认证账号（业务系统以 HTTP Basic 调用待办服务和兑换票据）").classes("text-subtitle2")
    account = ui.input("认证账号", value=await accounts.api_account()).props("outlined").classes("landing-form-row")
    password = ui.input("认证密码", password=True, placeholder="至少 8 位").props("outlined")
    password.classes("landing-form-row")

    async def save_account() -> None:
        clear_errors(account, password)
        try:
            await accounts.set_api_account(account.value, password.value, current_admin())
        except ConnectorError as exc:
            field_error(password if exc.field == "api_password" else account, exc.message)
            return
        password.set_value("")
        notify_ok("认证账号已保存")

    ui.button("保存认证账号", on_click=save_account).props("outline color=primary")


async def _todo_panel(opts: options_service.Options, bound_agent: str) -> None:
    enabled = ui.switch("待办待阅推送配置", value=opts.todo_enabled)
    ui.label("开启则表示业务系统可以推送待办待阅消息到钉钉。").classes("landing-hint")
    with ui.row().classes("items-center"):
        ui.label("待办推送").style("width: 120px")
        to_todo = ui.checkbox("推送到钉钉待办", value=opts.push_todo)
        api_type = ui.select(options_service.TODO_API_TYPES, value=opts.todo_api_type).props("outlined dense")
        to_notice = ui.checkbox("推送到钉钉通知", value=opts.push_notify)
    ui.label(
        "开启推送到钉钉待办，待办处理后会消失；开启推送到钉钉通知，待办也会作为工作通知推送，有提醒效果。"
    ).classes("landing-hint")
    to_read = ui.switch("待阅消息推送", value=opts.push_toread)
    ui.label("默认待阅类消息不会推送到钉钉，可选。").classes("landing-hint")
    agent = ui.input("钉钉消息微应用ID", value=opts.message_agent_id, placeholder=bound_agent or "")
    agent.props("outlined").classes("landing-form-row").mark("agent-id")
    ui.label(f"开启推送到钉钉通知时必填；留空使用绑定的应用 AgentId（{bound_agent or '未绑定'}）。").classes(
        "landing-hint"
    )
    colour = ui.input("钉钉消息标题的颜色", value=opts.title_color, placeholder="#1E6FD9")
    colour.props("outlined").classes("landing-form-row").mark("title-color")
    ui.label("钉钉推送待办消息时，消息标题的背景颜色，可选。格式 #RRGGBB 或 AARRGGBB。").classes("landing-hint")
    days = ui.number("钉钉待办日志保存期限（天）", value=opts.log_retention_days, min=1, max=3650, precision=0)
    days.props("outlined").classes("landing-form-row")
    ui.label("系统定时清理之前的接口日志，默认按 30 天处理。").classes("landing-hint")

    async def save() -> None:
        widgets = {"message_agent_id": agent, "title_color": colour, "log_retention_days": days}
        clear_errors(*widgets.values())
        opts.todo_enabled, opts.push_todo, opts.todo_api_type = enabled.value, to_todo.value, api_type.value
        opts.push_notify, opts.push_toread = to_notice.value, to_read.value
        opts.message_agent_id, opts.title_color = agent.value or "", colour.value or ""
        opts.log_retention_days = int(days.value or 30)
        try:
            saved = await options_service.save(opts, bound_agent, current_admin(), rt=running())
        except ConnectorError as exc:
            field_error(widgets.get(exc.field, agent), exc.message)
            return
        colour.set_value(saved.title_color)
        notify_ok("待办通知配置已保存")

    ui.button("保存", on_click=save).props("unelevated color=primary").mark("save-todo")


@page("/config", "集成配置")
async def config_page(tab: str = "base") -> None:
    current = await binding.current()
    bound_agent = current.agent_id if current else ""
    opts = await options_service.load()
    with ui.tabs(value=tab).classes("text-primary") as tabs:
        ui.tab("base", "基础配置")
        ui.tab("login", "登录配置")
        ui.tab("todo", "待办通知配置")
    with ui.tab_panels(tabs, value=tab).classes("w-full landing-card"):
        with ui.tab_panel("base"):
            await _binding_panel()
        with ui.tab_panel("login"):
            await _login_panel(opts, bound_agent)
        with ui.tab_panel("todo"):
            await _todo_panel(opts, bound_agent)
