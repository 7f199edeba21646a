"""设置 > 接入系统 (guide 3.3.4): the business systems that bind to this org, and one form to create or edit them."""

from __future__ import annotations

from datetime import datetime

from nicegui import ui

from app.components.confirm_dialog import ask
from app.components.entity_form import FieldErrors
from app.components.frame import actor, empty_state, notify_error, notify_ok, page, page_title
from app.core import localtime
from app.services import access_systems
from app.services.access_systems import SystemInput, SystemRow
from app.services.errors import ServiceError, ValidationFailed
from app.services.permissions import Perm

LIST_PATH = "/settings/access"
FORM_PATH = "/settings/access/edit"

HELP = {
    "name": "注：接入到当前组织的业务系统的名称。如办公OA系统、供应商管理系统等。",
    "identifier": (
        "注：业务系统接入到当前组织时，首次接入可使用此标识换取对接钉钉所需的接口账号和密码。"
        "任意填写，整个平台内不可重复；默认只能使用一次。"
    ),
    "auth_account": (
        "注：业务系统通过接入账号和密码获取当前组织信息及通讯录的映射信息"
        "（即：部门和人员的系统端与钉钉端的对应ID标识）。"
    ),
    "auth_password": "至少 8 位。业务系统以此密码调用接口，也用它校验蓝钉发出的通知签名。",
    "scan": (
        "注：此参数可用于在业务系统的登录页可使用钉钉扫码登录进入业务系统。配置方法：打开钉钉开放平台"
        "（https://open.dingtalk.com），登录开发者后台，进入应用开发>移动接入应用>登录，创建扫码登录应用授权，"
        "将应用的appid和Appsecret复制粘贴到此。一个扫码登录应用只能提供给一个接入系统使用。"
    ),
    "notify_url": (
        "不需要填写，EKP 蓝钉组件通过接口写入。当蓝钉管理台的组织配置信息和通讯录信息发生变化时，"
        "通过这个通知接口去通知业务系统实时更新。"
    ),
    "ip_allowlist": (
        "可选。只允许这些地址绑定和调用接口，多个用逗号或换行分隔，支持网段（如 10.0.0.0/24）；留空不限制。"
    ),
}


def _when(value: datetime | None, empty: str = "—") -> str:
    return localtime.fmt(value, empty=empty)


def _health(row: SystemRow) -> tuple[str, str]:
    """Text and colour of the notification state."""
    if not row.notify_url:
        return "未登记接收通知接口", "text-grey-7"
    if row.failed:
        return f"{row.failed} 条通知发送失败（已停止重试）", "text-negative"
    if row.pending and row.last_error:
        return f"{row.pending} 条通知发送失败，正在重试", "text-warning"
    if row.pending:
        return f"{row.pending} 条通知待发送", "text-grey-8"
    return (f"正常（最近送达 {_when(row.last_delivered_at)}）" if row.last_delivered_at else "正常"), "text-positive"


def _field(label: str, value: str, marker: str = "", wide: bool = False) -> None:
    with ui.column().classes("gap-0").style("grid-column: 1 / -1" if wide else ""):
        ui.label(label).classes("landing-hint")
        text = ui.label(value or "—").classes("text-body2").style("word-break: break-all")
        if marker:
            text.mark(marker)


@page(LIST_PATH, "接入系统", section="settings", perm=Perm.ACCESS_MANAGE, needs_org=True, menu=("settings.access", 70))
async def access_list_page() -> None:
    page_title("接入系统", ("新建接入系统", lambda: ui.navigate.to(FORM_PATH)))
    ui.label(
        "企业的业务系统（如 EKP）需要与钉钉对接时，在此新建接入系统，并将接入标识提供给业务系统的管理员。"
        "业务系统用接入标识绑定后，通过认证账号和密码获取本组织对接钉钉的参数和通讯录映射关系。"
    ).classes("text-grey-7 q-mb-md")
    container = ui.column().classes("w-full gap-4")

    async def refresh() -> None:
        rows = await access_systems.list_systems(actor())
        container.clear()
        with container:
            if not rows:
                empty_state("还没有接入系统。点击「新建接入系统」，填写接入标识、认证账号和认证密码。", "hub")
                return
            for row in rows:
                _system_card(row, refresh)

    await refresh()


def _system_card(row: SystemRow, refresh) -> None:
    with ui.card().classes("landing-card q-pa-md").mark(f"system-{row.identifier}"):
        with ui.row().classes("w-full items-center gap-2"):
            ui.label(row.name).classes("text-subtitle1 text-weight-medium")
            if row.bound_at:
                ui.badge("已绑定", color="positive").mark("bind-state").tooltip(
                    f"绑定时间 {_when(row.bound_at)}，来源地址 {row.bound_ip or '—'}"
                )
                ui.label(_when(row.bound_at)).classes("landing-hint")
            else:
                ui.badge("未绑定", color="grey-6").mark("bind-state")
            ui.space()
            with ui.row().classes("items-center gap-1"):
                _actions(row, refresh)
        with (
            ui.element("div")
            .classes("w-full q-mt-sm")
            .style("display: grid; gap: 12px 32px; grid-template-columns: repeat(auto-fill, minmax(220px, 1fr))")
        ):
            _field("接入标识", f"{row.identifier}（{'已使用' if row.identifier_used else '可使用一次'}）", "identifier")
            _field("认证账号", row.auth_account, "auth-account")
            _field("认证密码", row.auth_password_masked, "auth-password")
            _field("扫码登录appid", row.scan_appid)
            _field("扫码登录appsecret", row.scan_appsecret_masked, "scan-secret")
            _field("IP白名单", row.ip_allowlist.replace("\n", "，") if row.ip_allowlist else "不限制")
            _field("最近拉取通讯录映射", _when(row.last_pull_at, "从未拉取"), "last-pull")
            _field("接收通知接口", row.notify_url or "未登记（业务系统绑定时写入）", "notify-url", wide=True)
        text, colour = _health(row)
        with ui.row().classes("items-center gap-2 q-mt-sm"):
            ui.label("通知状态：").classes("landing-hint")
            ui.label(text).classes(f"text-body2 {colour}").mark("notify-health")
        if row.last_error and (row.pending or row.failed):
            ui.label(f"最近错误：{row.last_error}").classes("text-caption text-negative").style(
                "word-break: break-all"
            ).mark("notify-error")


def _actions(row: SystemRow, refresh) -> None:
    ui.button("编辑", on_click=lambda: ui.navigate.to(f"{FORM_PATH}?id={row.id}")).props(
        "flat dense color=primary"
    ).mark("edit")
    rearm = ui.button("重新启用接入标识", on_click=lambda: _rearm(row, refresh)).props("flat dense color=primary")
    rearm.mark("rearm")
    if not row.identifier_used:
        rearm.disable()
        rearm.tooltip("接入标识尚未使用，无需重新启用")
    if row.notify_url:
        ui.button("重新发送", on_click=lambda: _replay(row, refresh)).props("flat dense color=primary").mark("replay")
    ui.button("删除", on_click=lambda: _confirm_delete(row, refresh)).props("flat dense color=negative").mark("delete")


async def _rearm(row: SystemRow, refresh) -> None:
    try:
        await access_systems.rearm_identifier(actor(), row.id)
    except ServiceError as exc:
        notify_error(exc.message)
        return
    notify_ok(f"接入标识 {row.identifier} 已重新启用，可再绑定一次")
    await refresh()


async def _replay(row: SystemRow, refresh) -> None:
    try:
        count = await access_systems.replay_notifications(actor(), row.id)
    except ServiceError as exc:
        notify_error(exc.message)
        return
    notify_ok(f"已安排重新发送 {count} 条通知")
    await refresh()


def _confirm_delete(row: SystemRow, refresh) -> None:
    async def delete() -> None:
        try:
            await access_systems.delete_system(actor(), row.id)
        except ServiceError as exc:
            notify_error(exc.message)
            return
        notify_ok(f"已删除接入系统「{row.name}」")
        await refresh()

    waiting = row.pending + row.failed
    ask(
        f"删除接入系统「{row.name}」？",
        "删除后，该系统将无法再用认证账号获取组织信息和通讯录映射"
        + (f"，{waiting} 条未送达的通知也会一并删除。" if waiting else "。"),
        on_ok=delete,
        ok="删除",
        ok_marker="confirm-delete",
        marker="delete-dialog",
    )


@page(FORM_PATH, "接入系统", section="settings", perm=Perm.ACCESS_MANAGE, needs_org=True)
async def access_form_page(id: int | None = None) -> None:  # noqa: A002 - the query parameter's name
    current: SystemRow | None = None
    if id is not None:
        try:
            current = await access_systems.get_system(actor(), id)
        except ServiceError as exc:
            empty_state(exc.message, "error_outline")
            ui.link("返回接入系统列表", LIST_PATH)
            return
    with ui.row().classes("w-full items-center landing-page-title no-wrap"):
        ui.button(icon="chevron_left", on_click=lambda: ui.navigate.to(LIST_PATH)).props("flat dense round")
        ui.label("编辑接入系统" if current else "新建接入系统").classes("text-h6")
        ui.space()
        submit = ui.button("提交").props("unelevated color=primary").mark("submit")

    inputs: dict[str, ui.input | ui.textarea] = {}

    def row(key: str, label: str, element, hint: str = "") -> None:
        # The element was created by the caller (in the card); move it into its row above its hint.
        with ui.column().classes("landing-form-row gap-0 q-mb-sm") as column:
            element.move(column)
            inputs[key] = element.props(f'outlined dense label="{label}"').classes("w-full").mark(key)
            if hint:
                ui.label(hint).classes("landing-hint")

    with ui.card().classes("landing-card q-pa-lg").style("max-width: 820px"):
        row("name", "* 系统名称", ui.input(value=current.name if current else ""), HELP["name"])
        row("identifier", "* 接入标识", ui.input(value=current.identifier if current else ""), HELP["identifier"])
        row("auth_account", "* 认证账号", ui.input(value=current.auth_account if current else ""), HELP["auth_account"])
        password_hint = HELP["auth_password"]
        if current:
            password_hint = f"当前：{current.auth_password_masked}。不修改请留空；修改后须同步告知业务系统。"
        row(
            "auth_password",
            "* 认证密码" if not current else "认证密码",
            ui.input(password=True, password_toggle_button=True),
            password_hint,
        )
        row("scan_appid", "扫码登录appid", ui.input(value=current.scan_appid if current else ""), HELP["scan"])
        secret_hint = ""
        if current and current.scan_appsecret_masked:
            secret_hint = f"当前：{current.scan_appsecret_masked}。不修改请留空；清空扫码登录appid时一并清除。"
        row("scan_appsecret", "扫码登录appsecret", ui.input(password=True, password_toggle_button=True), secret_hint)
        with ui.column().classes("landing-form-row gap-0 q-mb-sm"):
            ui.input("接收通知接口", value=current.notify_url if current else "").props(
                "outlined dense readonly"
            ).classes("w-full").mark("notify_url")
            ui.label(HELP["notify_url"]).classes("landing-hint")
        row(
            "ip_allowlist",
            "IP白名单",
            ui.textarea(value=current.ip_allowlist if current else "").props("autogrow"),
            HELP["ip_allowlist"],
        )

    errors = FieldErrors(notify=True)
    errors.inputs(inputs)

    async def save() -> None:
        errors.clear()
        data = SystemInput(**{key: element.value or "" for key, element in inputs.items()})
        try:
            await access_systems.save_system(actor(), current.id if current else None, data)
        except ValidationFailed as exc:
            errors.show(exc)
            return
        except ServiceError as exc:
            notify_error(exc.message)
            return
        notify_ok("已保存" if current else f"已新建接入系统「{data.name.strip()}」，请将接入标识提供给业务系统管理员")
        ui.navigate.to(LIST_PATH)

    submit.on_click(save)
