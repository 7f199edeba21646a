"""设置 > 登录认证 (guide 3.2.6): domain-account login for exclusive DingTalk, with the values DingTalk needs."""

from __future__ import annotations

from nicegui import ui

from app.components.entity_form import FieldErrors
from app.components.frame import actor, notify_error, notify_ok, page, page_title
from app.core import localtime
from app.services import login_auth
from app.services.errors import ServiceError
from app.services.permissions import Perm


def _value_row(label: str, value: str, marker: str, *, copy: bool = True) -> None:
    with ui.row().classes("w-full no-wrap items-center q-py-xs"):
        ui.label(label).classes("text-grey-7").style("width: 160px; min-width: 160px")
        ui.label(value).style("word-break: break-all; font-family: monospace").mark(marker)
        if value and copy:
            ui.button(icon="content_copy", on_click=lambda v=value: ui.clipboard.write(v)).props(
                "flat dense round size=sm"
            ).tooltip("复制")


def _show_secret_once(secret: str) -> None:
    with ui.dialog() as dialog, ui.card().classes("q-pa-md").style("max-width: 560px").mark("secret-dialog"):
        ui.label("Client Secret").classes("text-h6")
        ui.label("请立即复制并填入钉钉管理后台；关闭后只显示掩码。").classes("text-grey-7")
        ui.label(secret).style("font-family: monospace; word-break: break-all").mark("client-secret")
        with ui.row().classes("w-full justify-end"):
            ui.button("复制", on_click=lambda: ui.clipboard.write(secret)).props("flat")
            ui.button("关闭", on_click=lambda: (dialog.close(), ui.navigate.reload())).props("unelevated color=primary")
    dialog.open()


@page("/settings/login-auth", "登录认证", section="settings", perm=Perm.LOGIN_AUTH, menu=("settings.login_auth", 20))
async def login_auth_page() -> None:
    view = await login_auth.get_view(actor())
    page_title("登录认证")
    ui.label(
        "专属钉钉客户端可启用企业域账号登录：员工在钉钉登录页点击“域账号登录”，输入企业域账号（EKP 账号 + 企业域标识，"
        f"如 zhangsan@{view.domain or 'landray.com'}）和密码登录钉钉。需先联系钉钉开启域账号登录功能（IDP 服务）。"
    ).classes("text-grey-7")
    with ui.card().classes("landing-card w-full q-pa-md").props("flat bordered").mark("login-auth-form"):
        ui.label("认证设置").classes("text-subtitle1 text-weight-medium")
        enabled = ui.switch("启用域账号登录", value=view.enabled).mark("enabled")
        authenticator = (
            ui.select(view.authenticators, value=view.authenticator, label="认证方式")
            .props("outlined dense")
            .style("width: 320px")
            .mark("authenticator")
        )
        ui.label("EKP 登录认证：用 EKP 账号和密码认证（使用该组织“同步设置”中配置的 EKP 地址和账号）。").classes(
            "text-caption text-grey-7"
        )
        org = (
            ui.select(view.org_choices, value=view.org_id or next(iter(view.org_choices), None), label="钉钉组织")
            .props("outlined dense")
            .style("width: 320px")
            .mark("org")
        )
        ui.label("域账号按该组织通讯录中的登录名对应到钉钉 userid。").classes("text-caption text-grey-7")
        uris = (
            ui.textarea("回调地址 (redirect_uri)，每行一个", value="\n".join(view.redirect_uris))
            .props("outlined dense autogrow")
            .style("width: 560px")
            .mark("redirect-uris")
        )

        errors = FieldErrors(notify=True)
        errors.input("redirect_uris", uris)

        async def save() -> None:
            errors.clear()
            try:
                secret = await login_auth.save_settings(
                    actor(),
                    enabled=bool(enabled.value),
                    authenticator=authenticator.value or "",
                    redirect_uris=(uris.value or "").splitlines(),
                    org_id=org.value,
                )
            except ServiceError as exc:
                errors.show(exc)
                return
            notify_ok("已保存")
            if secret:
                _show_secret_once(secret)
            else:
                ui.navigate.reload()

        ui.button("保存", on_click=save).props("unelevated color=primary").mark("save")

    with ui.card().classes("landing-card w-full q-pa-md q-mt-md").props("flat bordered").mark("dingtalk-values"):
        ui.label("在钉钉管理后台填写（安全与权限 > SSO单点登录设置，OpenID Connect）").classes(
            "text-subtitle1 text-weight-medium"
        )
        _value_row("Issuer", view.endpoints["issuer"], "issuer")
        _value_row("Client ID", view.client_id or "（保存后生成）", "client-id", copy=bool(view.client_id))
        _value_row("Client Secret", view.client_secret_masked or "（保存后生成）", "client-secret-masked", copy=False)
        _value_row("发现地址", view.endpoints["discovery"], "discovery")
        _value_row("授权端点", view.endpoints["authorization_endpoint"], "authorize-endpoint")
        _value_row("令牌端点", view.endpoints["token_endpoint"], "token-endpoint")
        _value_row("JWKS", view.endpoints["jwks_uri"], "jwks")
        ui.label("id_token 的 sub 为钉钉 userid，签名算法 RS256。").classes("text-caption text-grey-7")

        async def regenerate() -> None:
            try:
                secret = await login_auth.regenerate_client_secret(actor())
            except ServiceError as exc:
                notify_error(exc.message)
                return
            _show_secret_once(secret)

        regen = ui.button("重新生成 Client Secret", on_click=regenerate).props("outline no-caps color=primary")
        regen.mark("regen-secret")

    with ui.card().classes("landing-card w-full q-pa-md q-mt-md").props("flat bordered").mark("keys"):
        ui.label("签名密钥").classes("text-subtitle1 text-weight-medium")
        if not view.keys:
            ui.label("尚未生成（启用后自动生成）").classes("text-grey-7")
        for key in view.keys:
            state = "使用中" if key["active"] else "已轮换（仍发布，用于校验旧令牌）"
            ui.label(f"{key['kid']}  ·  {localtime.fmt(key['created'], localtime.MINUTES)}  ·  {state}").style(
                "font-family: monospace"
            )

        async def rotate() -> None:
            try:
                kid = await login_auth.rotate_key(actor())
            except ServiceError as exc:
                notify_error(exc.message)
                return
            notify_ok(f"已轮换签名密钥：{kid}")
            ui.navigate.reload()

        ui.button("轮换签名密钥", on_click=rotate).props("outline color=primary").mark("rotate-key")
