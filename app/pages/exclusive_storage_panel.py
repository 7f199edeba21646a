"""The 专属数据存储 tab of 设置 > 专属钉钉 (guide 2.2): the stepper 购买 -> 设置 -> 开启, the state, the usage chart."""

from __future__ import annotations

from nicegui import ui

from app.components.entity_form import FieldErrors
from app.components.frame import actor, notify_error, notify_ok, running
from app.services import exclusive_storage
from app.services.errors import ServiceError
from app.services.exclusive_storage import StorageView
from app.services.orgs import FormInvalid

FEATURES = (
    "双重加密，在落盘前保证所有数据均加密",
    "提供文件、消息数据归档，准实时同步",
    "可支持第三方专业审计",
    "稳定性指标达 99.99%",
    "数据可靠性指标达到 11 个 9 可靠性",
    "文件数据在钉钉侧保留 3 个月，聊天消息钉钉侧不删除",
)
PURCHASE_URL = "https://www.aliyun.com/product/oss"
STEP_NAMES = {"purchase": "购买", "settings": "设置", "opened": "开启"}


def _show_errors(errors: FieldErrors, exc: ServiceError, detail: ui.label | None = None) -> None:
    """Each field's message next to it; DingTalk's full answer and advice under the form (or as a notification)."""
    errors.clear()
    if detail is not None:
        detail.set_text("")
        detail.set_visibility(False)
    if isinstance(exc, FormInvalid):
        errors.show_all(exc.errors)
        return
    shown = errors.set(exc.field, getattr(exc, "short", exc.message))
    if detail is not None:
        detail.set_text(exc.message)
        detail.set_visibility(True)
    elif not shown:
        notify_error(exc.message)


def _state_row(label: str, value: str, marker: str) -> None:
    with ui.row().classes("w-full no-wrap items-center q-py-xs"):
        ui.label(label).classes("text-grey-7").style("width: 130px; min-width: 130px")
        ui.label(value or "—").style("word-break: break-all").mark(marker)


def _chart(series: exclusive_storage.QuotaSeries) -> None:
    ui.label("已用存储（近 30 天）").classes("text-subtitle2 q-mt-md")
    if series.error:
        ui.label(series.error).classes("text-negative whitespace-pre-line").mark("quota-error")
        return
    if not series.days:
        ui.label("暂无用量数据").classes("text-grey-6").mark("quota-empty")
        return
    values_mb = [round(v / 1024 / 1024, 2) for v in series.used_bytes]
    ui.echart(
        {
            "animation": False,
            "tooltip": {"trigger": "axis"},
            "grid": {"left": 60, "right": 24, "top": 36, "bottom": 36},
            "xAxis": {"type": "category", "data": series.days, "boundaryGap": False},
            "yAxis": {"type": "value", "name": "MB"},
            "series": [
                {
                    "type": "line",
                    "name": "已用存储 (MB)",
                    "data": values_mb,
                    "areaStyle": {"opacity": 0.15},
                    "smooth": True,
                }
            ],
        }
    ).classes("w-full").style("height: 260px").mark("quota-chart")
    ui.label(f"共 {len(series.days)} 天，最新 {exclusive_storage.format_bytes(series.used_bytes[-1])}").classes(
        "text-caption text-grey-7"
    ).mark("quota-summary")


async def storage_panel(org_id: int) -> None:
    """Build the tab; every action reloads this panel through ``content.refresh``. What the admin typed (not the
    secret) survives 上一步 / 下一步 in ``draft``."""
    draft: dict[str, str] = {}

    @ui.refreshable
    async def content() -> None:
        view = await exclusive_storage.get_view(actor(), org_id, client=running().dingtalk)
        if view.state_error:
            ui.label(view.state_error).classes("text-negative whitespace-pre-line").mark("state-error")
        with (
            ui.stepper(value=view.step.value)
            .props("flat animated header-nav=false")
            .classes("w-full landing-card")
            .mark("storage-stepper")
        ):
            order = ("purchase", "settings", "opened")
            reached = order.index(view.step.value)
            done = {name: order.index(name) < reached or (name == "opened" and view.opened) for name in order}
            with ui.step("purchase", title="购买", icon="shopping_cart").props(
                f":done={str(done['purchase']).lower()}"
            ):
                _purchase_step(view, content)
            with ui.step("settings", title="设置", icon="tune").props(f":done={str(done['settings']).lower()}"):
                _settings_step(view, content, draft)
            with ui.step("opened", title="开启", icon="cloud_done").props(
                f":done={str(done['opened']).lower()} done-icon=cloud_done"
                + (" active-icon=cloud_done" if view.opened else "")
            ):
                await _opened_step(view, content)

    await content()


def _go(view: StorageView, step: exclusive_storage.StorageStep, content: ui.refreshable):
    """下一步 / 上一步: the handler that moves the stepper to ``step``."""

    async def handler() -> None:
        try:
            await exclusive_storage.set_step(actor(), view.org_id, step)
        except ServiceError as exc:
            notify_error(exc.message)
            return
        content.refresh()

    return handler


def _purchase_step(view: StorageView, content: ui.refreshable) -> None:
    ui.label(
        "数据专属存储，是钉钉为大型企业或组织提供的将钉钉上专属的文件加密后归档存储到企业购买的阿里云专属存储空间的服务。"
    ).classes("text-grey-8")
    with ui.column().classes("gap-0 q-my-sm"):
        for feature in FEATURES:
            ui.label(f"✓ {feature}").classes("text-grey-8")
    with ui.row().classes("items-center gap-1"):
        ui.label("第一步：购买阿里云存储服务。如你的企业尚未购买阿里云数据专属存储服务 (OSS)，可前往阿里云").classes(
            "text-grey-8"
        )
        ui.link("咨询购买", PURCHASE_URL, new_tab=True)

    with ui.stepper_navigation():
        next_step = _go(view, exclusive_storage.StorageStep.SETTINGS, content)
        ui.button("已购买，下一步", on_click=next_step).props("unelevated color=primary").mark("to-settings")


def _key_input(
    errors: FieldErrors,
    field: str,
    label: str,
    marker: str,
    draft: dict[str, str] | None = None,
    draft_key: str = "",
    stored: str = "",
) -> ui.input:
    """One field of the storage form. Fields named in ``draft`` keep what was typed; the secret field never does."""
    secret = field == exclusive_storage.FIELD_KEY_SECRET
    element = ui.input(label, password=secret, password_toggle_button=secret).props("outlined dense").classes("w-full")
    if secret:
        element.props("autocomplete=new-password")
    if draft is not None and draft_key:
        element.value = draft.get(draft_key, stored)
        element.on_value_change(lambda e: draft.__setitem__(draft_key, e.value or ""))
    return errors.input(field, element.mark(marker))


def _settings_step(view: StorageView, content: ui.refreshable, draft: dict[str, str]) -> None:
    errors = FieldErrors()
    ui.label("第二步：完成数据专属存储设置。检测通过后，自动开启专属数据存储服务。").classes("text-grey-8")
    if view.last_error:
        ui.label(view.last_error).classes("text-negative whitespace-pre-line").mark("open-error")
    with ui.column().classes("w-full gap-1").style("max-width: 640px"):
        oss = _key_input(errors, exclusive_storage.FIELD_OSS, "OSS链接地址", "oss-url", draft, "oss", view.oss_url)
        oss.props('placeholder="请完整输入阿里云服务的bucket域名,格式如https://xxxx.oss-cn-hangzhou.aliyuncs.com"')
        key_id = _key_input(
            errors,
            exclusive_storage.FIELD_KEY_ID,
            "阿里云AccessKey ID",
            "access-key-id",
            draft,
            "key_id",
            view.access_key_id,
        )
        key_id.props('placeholder="请完整输入购买阿里云服务时所提供的AccessKey ID"')
        key_secret = _key_input(
            errors, exclusive_storage.FIELD_KEY_SECRET, "阿里云AccessKey Secret", "access-key-secret"
        )
        key_secret.props('placeholder="请完整输入购买阿里云服务时所提供的AccessKey Secret"')
    ui.label(
        "如你的企业尚未购买阿里云数据专属存储服务 (OSS)，可前往阿里云咨询购买。"
        "AccessKey Secret 加密保存，页面不再显示。"
    ).classes("landing-hint")
    detail = ui.label("").classes("text-negative whitespace-pre-line").mark("check-error")
    detail.set_visibility(False)

    back = _go(view, exclusive_storage.StorageStep.PURCHASE, content)

    async def check() -> None:
        errors.clear()
        button.props("loading")
        try:
            await exclusive_storage.check_and_open(
                actor(),
                view.org_id,
                client=running().dingtalk,
                oss_url=oss.value or "",
                access_key_id=key_id.value or "",
                access_key_secret=key_secret.value or "",
            )
        except ServiceError as exc:
            button.props(remove="loading")
            _show_errors(errors, exc, detail)
            return
        notify_ok("检测通过，已开启专属数据存储")
        content.refresh()

    with ui.stepper_navigation():
        ui.button("上一步", on_click=back).props("flat color=primary").mark("back-to-purchase")
        button = ui.button("检测链接", on_click=check).props("unelevated color=primary").mark("check-connection")


async def _opened_step(view: StorageView, content: ui.refreshable) -> None:
    ui.label("第三步：开启数据存储服务。检测通过后，自动开启专属数据存储服务。").classes("text-grey-8")
    with ui.row().classes("w-full gap-6 items-start"):
        with ui.column().classes("gap-0").style("min-width: 360px; flex: 1").mark("storage-state"):
            _state_row("开通状态", view.open_label, "open-status")
            _state_row("存储状态", view.storage_label, "storage-status")
            _state_row("开通时间", view.create_date, "create-date")
            _state_row("已用存储", view.used_text if view.opened else "", "used-quota")
            _state_row("OSS链接地址", view.oss_url, "state-oss")
            _state_row("AccessKey ID", view.access_key_id, "state-key-id")
            _state_row("AccessKey Secret", view.secret_masked, "state-key-secret")
            read_at = view.state_read_at.astimezone().strftime("%Y-%m-%d %H:%M:%S") if view.state_read_at else ""
            _state_row("状态读取时间", read_at, "state-read-at")
        with ui.column().classes("gap-2"):
            ui.button("刷新状态", icon="refresh", on_click=content.refresh).props("outline no-caps color=primary").mark(
                "refresh-state"
            )
            ui.button("更新 AccessKey", icon="key", on_click=lambda: _update_key_dialog(view, content)).props(
                "outline no-caps color=primary"
            ).mark("update-key")
    if view.opened:
        _chart(await exclusive_storage.quota_series(actor(), view.org_id, client=running().dingtalk))


def _update_key_dialog(view: StorageView, content: ui.refreshable) -> None:
    errors = FieldErrors()
    with ui.dialog() as dialog, ui.card().style("min-width: 460px").mark("update-key-dialog"):
        ui.label("更新 AccessKey").classes("text-h6")
        ui.label(f"OSS链接地址：{view.oss_url}（已开通的专属存储不能更换 bucket）").classes("text-grey-7")
        key_id = _key_input(errors, exclusive_storage.FIELD_KEY_ID, "阿里云AccessKey ID", "new-key-id")
        key_secret = _key_input(errors, exclusive_storage.FIELD_KEY_SECRET, "阿里云AccessKey Secret", "new-key-secret")
        detail = ui.label("").classes("text-negative whitespace-pre-line").mark("update-key-error")
        detail.set_visibility(False)

        async def save() -> None:
            errors.clear()
            try:
                await exclusive_storage.update_access_key(
                    actor(),
                    view.org_id,
                    client=running().dingtalk,
                    access_key_id=key_id.value or "",
                    access_key_secret=key_secret.value or "",
                )
            except ServiceError as exc:
                _show_errors(errors, exc, detail)
                return
            notify_ok("已更新 AccessKey")
            dialog.close()
            content.refresh()

        with ui.row().classes("w-full justify-end gap-2"):
            ui.button("取消", on_click=dialog.close).props("flat")
            ui.button("保存", on_click=save).props("unelevated color=primary").mark("save-key")
    dialog.open()
