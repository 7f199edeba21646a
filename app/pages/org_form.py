"""Pieces shared by 公司信息, 组织信息 and 组织设置: the org form with the guide's help texts, the org detail view
and the person picker."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from nicegui import ui

from app.components import initial_passwords
from app.components.entity_form import FieldErrors, form_row
from app.components.frame import actor, notify_error, notify_ok, running
from app.core.security import mask
from app.services import orgs, secret_reveal
from app.services.errors import ServiceError
from app.services.orgs import FormInvalid, OrgForm, OrgView

HELP_CORPID = "打开钉钉开放平台（https://open.dingtalk.com），登录开发者后台，进入首页，拷贝Corpid粘贴到此处。"
HELP_APPKEY = (
    "1. 打开钉钉开放平台（https://open.dingtalk.com），登录开发者后台，进入应用开发>企业内部开发>H5微应用。\n"
    "2. 创建微应用，“开发方式”选择“企业内部开发”；“开发模式”选择“开发应用”；“开发应用类型”选择微应用；"
    "“应用首页链接”可填管理台地址；“服务器出口IP”填写管理台和所有需要通过该应用调用钉钉接口的业务系统的出口IP；保存微应用。\n"
    "3. 打开应用详情页>接口权限，开启全部接口权限。\n"
    "4. 打开应用详情页>基础信息>应用信息>查看详情，拷贝AppKey、AppSecret、AgentId粘贴到此处。"
)
HELP_DOMAIN = "回调参数用于钉钉端通讯录有更新会及时通知蓝钉管理台，若为空则钉钉通讯录若有更新将不会通知到蓝钉管理台。"
HELP_COMPANY_DOMAIN = "公司标识是申请注册钉钉企业时填写的公司域标识。若未注册，请先打开钉钉官网（https://www.dingtalk.com），进行企业注册。"


def help_text(text: str) -> None:
    ui.label(text).classes("text-caption text-grey-7 q-mt-xs").style("white-space: pre-line; max-width: 640px")


class OrgFormFields:
    """The inputs of one org (创建组织 / 编辑组织 / 公司信息' main org), with errors shown next to each field."""

    def __init__(self, initial: OrgView | None, default_domain: str, *, with_name: bool = True) -> None:
        self.inputs: dict[str, ui.input] = {}
        self.creating = initial is None
        aes_key, token = orgs.new_callback_secrets() if initial is None else ("", "")
        self.aes_key, self.token = aes_key, token
        if with_name:
            self._input("name", "组织名称", initial.name if initial else "", required=True)
        self._input("corpid", "corpid", initial.corpid if initial else "", required=True, help=HELP_CORPID)
        self._input("appkey", "appkey", initial.appkey if initial else "", required=True, help=HELP_APPKEY)
        secret = self._input(
            "appsecret", "appsecret", "", required=self.creating, password=True,
            placeholder=f"已保存（{initial.appsecret_masked}），不修改请留空" if initial else "",
        )  # fmt: skip
        secret.props("autocomplete=new-password")
        self._input("agent_id", "钉钉AgentId", initial.agent_id if initial else "")
        domain = self._input(
            "callback_domain",
            "回调地址(域名)",
            initial.callback_domain if initial else default_domain,
            help="注：" + HELP_DOMAIN,
        )
        with form_row("回调地址"):
            self.url_label = ui.label("").classes("q-pt-sm text-grey-8").style("word-break: break-all")
            self.url_label.mark("callback-url")
        with form_row("AESKey"):
            self.aes_label = ui.label("").classes("q-pt-sm text-grey-8").mark("aes-key")
        with form_row("回调Token"):
            with ui.row().classes("items-center q-pt-sm"):
                self.token_label = ui.label("").classes("text-grey-8").mark("callback-token")
                ui.button("重新生成", on_click=self.regenerate).props("flat dense color=primary").mark("regenerate")
        self.initial = initial
        self._refresh_secrets()
        domain.on_value_change(lambda _: self._refresh_url())
        self.inputs["corpid"].on_value_change(lambda _: self._refresh_url())
        self._refresh_url()

    def _input(
        self,
        key: str,
        label: str,
        value: str,
        *,
        required: bool = False,
        help: str = "",
        password: bool = False,
        placeholder: str = "",
    ) -> ui.input:
        with form_row(label, required=required):
            with ui.column().classes("gap-0 col"):
                inp = ui.input(value=value, placeholder=placeholder, password=password).props("outlined dense")
                inp.classes("w-full").style("max-width: 640px").mark(key)
                if help:
                    help_text(help)
        self.inputs[key] = inp
        return inp

    def _refresh_url(self) -> None:
        url = orgs.callback_url(
            (self.inputs["callback_domain"].value or "").strip(), (self.inputs["corpid"].value or "").strip()
        )
        self.url_label.set_text(url or "（未填写回调地址(域名)，钉钉通讯录更新将不会通知到蓝钉管理平台）")

    def _refresh_secrets(self) -> None:
        if self.aes_key:
            note = "（新生成，保存后生效）" if self.initial else ""
            self.aes_label.set_text(f"{mask(self.aes_key)}{note}")
            self.token_label.set_text(f"{mask(self.token)}{note}")
        elif self.initial:
            self.aes_label.set_text(self.initial.aes_key_masked)
            self.token_label.set_text(self.initial.callback_token_masked)

    def regenerate(self) -> None:
        self.aes_key, self.token = orgs.new_callback_secrets()
        self._refresh_secrets()

    def form(self) -> OrgForm:
        values = {k: (i.value or "") for k, i in self.inputs.items()}
        return OrgForm(**values, aes_key=self.aes_key, callback_token=self.token)


def show_result_dialog(result: orgs.SaveResult, on_close: Callable[[], None]) -> None:
    """After a save: callback 成功/失败 (with DingTalk's reason) and the main admin that was pulled."""
    with ui.dialog() as dialog, ui.card().classes("q-pa-md").style("min-width: 480px").mark("save-result"):
        ui.label("已保存").classes("text-h6")
        if result.callback_ok is True:
            ui.label("回调注册：成功").classes("text-positive").mark("callback-ok")
        elif result.callback_ok is False:
            ui.label("回调注册：失败").classes("text-negative").mark("callback-failed")
            ui.label(result.callback_error).classes("text-caption").style("white-space: pre-line")
        for message in result.messages:
            ui.label(message).classes("text-grey-7")
        if result.admin_name:
            password = result.admin_initial_password
            note = "（沿用已有账号的密码）" if not password else "，初始密码 123456（首次登录需修改）"
            if initial_passwords.is_random(password):
                note = "，初始密码如下（只显示这一次，首次登录需修改）："
            ui.label(f"已从钉钉拉取主管理员 {result.admin_name}，登录名 {result.admin_login}{note}").mark(
                "admin-pulled"
            )
            if initial_passwords.is_random(password):
                ui.label(password).classes("text-subtitle1").style("font-family: monospace").mark(
                    "admin-initial-password"
                )
        elif result.admin_error:
            ui.label(result.admin_error).classes("text-negative").style("white-space: pre-line")
        if result.created:
            ui.label("正在后台拉取钉钉通讯录，可在组织信息中查看进度。").classes("text-grey-7")
        with ui.row().classes("w-full justify-end"):
            ui.button("确定", on_click=lambda: (dialog.close(), on_close())).props("unelevated color=primary")
    dialog.open()


def show_dingtalk_error(container: ui.element, message: str) -> None:
    container.clear()
    with container:
        with ui.card().classes("w-full q-pa-sm bg-red-1").props("flat bordered").mark("dingtalk-error"):
            ui.label(message).classes("text-negative").style("white-space: pre-line")


async def run_save(
    fields: OrgFormFields | None,
    error_box: ui.element,
    action: Callable[[], Awaitable[orgs.SaveResult]],
    on_done: Callable[[orgs.SaveResult], None],
    extra_fields: dict[str, ui.input] | None = None,
) -> None:
    error_box.clear()
    try:
        result = await action()
    except FormInvalid as exc:
        shown = FieldErrors()
        shown.inputs({**(fields.inputs if fields else {}), **(extra_fields or {})})
        shown.show_all(exc.errors)
        notify_error("请检查标红的字段")
        return
    except orgs.DingTalkRejected as exc:
        show_dingtalk_error(error_box, exc.message)
        return
    except ServiceError as exc:
        notify_error(exc.message)
        return
    on_done(result)


def _reveal_buttons(org_id: int, which: str, label: str, shown: ui.label) -> None:
    """显示 / 复制 for super and org admins; each press is audited by the service."""

    async def show() -> None:
        try:
            shown.set_text(await secret_reveal.reveal(actor(), org_id, which))
        except ServiceError as exc:
            notify_error(exc.message)

    async def copy() -> None:
        try:
            value = await secret_reveal.reveal(actor(), org_id, which, purpose="复制")
        except ServiceError as exc:
            notify_error(exc.message)
            return
        ui.clipboard.write(value)
        notify_ok(f"{label} 已复制")

    ui.button("显示", on_click=show).props("flat dense color=primary").mark(f"reveal-{which}")
    ui.button("复制", on_click=copy).props("flat dense color=primary").mark(f"copy-{which}")


def status_chip(name: str, ok: bool | None) -> None:
    color = "positive" if ok else ("negative" if ok is False else "grey")
    ui.badge(name, color=color).props("outline")


def org_detail(view: OrgView, *, editable: bool, on_edit: Callable[[], None], on_refresh: Callable[[], None]) -> None:
    """The read-only 组织信息 block (guide 3.2.4 / 3.3.2) with callback status, retry and baseline progress."""
    rows = [
        ("公司名称", view.company_name),
        ("组织名称", view.name),
        ("是否主组织", "是" if view.is_main else "否"),
        ("corpId", view.corpid),
        ("appkey", view.appkey),
        ("appsecret", view.appsecret_masked),
        ("钉钉AgentId", view.agent_id),
        ("主管理员", view.main_admin_name or "（无）"),
        ("回调地址", view.callback_url or "（未填写回调地址(域名)）"),
        ("AESKey", view.aes_key_masked),
        ("回调Token", view.callback_token_masked),
    ]
    with ui.card().classes("landing-card w-full q-pa-md").props("flat bordered").mark("org-detail"):
        with ui.row().classes("w-full items-center"):
            ui.label("组织信息").classes("text-subtitle1 text-weight-medium")
            ui.space()
            if editable:
                ui.button("编辑", on_click=on_edit).props("unelevated color=primary").mark("edit-org")
        secrets_by_label = {"AESKey": "aes_key", "回调Token": "callback_token"}
        for label, value in rows:
            with ui.row().classes("w-full no-wrap q-py-xs items-center"):
                ui.label(label).classes("text-grey-7").style("width: 120px; min-width: 120px")
                shown = ui.label(value).style("word-break: break-all").mark(f"detail-{label}")
                if editable and label in secrets_by_label and value:
                    _reveal_buttons(view.id, secrets_by_label[label], label, shown)
        with ui.row().classes("w-full no-wrap items-center q-py-xs"):
            ui.label("回调状态").classes("text-grey-7").style("width: 120px; min-width: 120px")
            ok = {"success": True, "failed": False}.get(view.callback_status)
            status_chip(view.callback_status_name, ok)
            if editable and view.callback_status != "success" and view.callback_url:

                async def retry() -> None:
                    try:
                        result = await orgs.register_callback(actor(), view.id, client=running().dingtalk)
                    except ServiceError as exc:
                        notify_error(exc.message)
                        return
                    if result.callback_ok:
                        notify_ok("回调注册成功")
                    else:
                        notify_error("回调注册失败：" + result.callback_error)
                    on_refresh()

                ui.button("重新注册", on_click=retry).props("flat dense color=primary").mark("retry-callback")
        if view.callback_error:
            ui.label(view.callback_error).classes("text-caption text-negative q-ml-xl").style(
                "white-space: pre-line"
            ).mark("callback-error")


class BaselinePanel:
    """初始化通讯录 progress, refreshed by a timer while the background pull runs."""

    def __init__(self, org_id: int) -> None:
        self.org_id = org_id
        with ui.card().classes("landing-card w-full q-pa-md q-mt-md").props("flat bordered"):
            with ui.row().classes("items-center"):
                ui.label("从钉钉拉取通讯录").classes("text-subtitle1 text-weight-medium")
                self.status = ui.badge("").props("outline").mark("baseline-status")
            self.spinner = ui.spinner(size="sm")
            self.message = ui.label("").classes("text-grey-8").mark("baseline-message")
        self.timer = ui.timer(1.0, self.refresh)

    async def refresh(self) -> None:
        try:
            view = await orgs.get_org(actor(), self.org_id)
        except ServiceError:
            self.timer.deactivate()
            return
        self.status.set_text(view.baseline_status_name)
        color = {"done": "positive", "failed": "negative", "running": "primary"}.get(view.baseline_status, "grey")
        self.status.props(f"color={color}")
        self.message.set_text(view.baseline_message or "")
        running = view.baseline_status in ("running", "pending")
        self.spinner.set_visibility(running)
        if not running:
            self.timer.deactivate()
