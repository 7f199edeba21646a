"""通讯录 > 同步设置 (guide 3.3.6.1 / 3.3.6.2): schedule, delete threshold, source system, 立即同步, 清空同步时间戳,
and the live progress of a running sync."""

from __future__ import annotations

from nicegui import ui

from app.components.confirm_dialog import ask
from app.components.entity_form import FieldErrors
from app.components.field_error import set_field_error
from app.components.frame import actor, notify_error, notify_ok, page, page_title, running
from app.core import localtime
from app.services import sync_runs, sync_settings
from app.services.errors import ServiceError
from app.services.permissions import Perm


def live_progress_panel(org_id: int) -> None:
    """Stage, counts and a progress bar of the org's running sync, refreshed every second for every viewer."""
    card = ui.card().classes("landing-card w-full q-mb-md").mark("sync-progress")
    with card:
        title = ui.label("").classes("text-subtitle1")
        bar = ui.linear_progress(value=0, show_value=False).props("rounded size=12px color=primary")
        counts = ui.label("").classes("text-grey-7 text-caption")
    card.visible = False

    async def refresh() -> None:
        status = await sync_runs.live_status(actor(), org_id)
        card.visible = status is not None
        if status is None:
            return
        step = f"（{status.step}）" if status.step else ""
        total = f"{status.done}/{status.total}" if status.total else f"{status.done}"
        title.text = f"同步正在进行中：{status.stage}{step} {total}"
        bar.value = status.fraction
        counts.text = status.summary

    ui.timer(1.0, refresh)


@page(
    "/sync/settings",
    "同步设置",
    section="contacts",
    perm=Perm.SYNC_MANAGE,
    needs_org=True,
    menu=("contacts.sync_settings", 20),
)
async def sync_settings_page() -> None:
    me = actor()
    org_id = me.current_org_id
    view = await sync_settings.get_settings(me, org_id)
    page_title("同步设置")
    ui.label(
        "钉钉端有更新时会实时通知本系统；本系统的通讯录更新会定时同步到钉钉（默认每两小时一次）。"
        "开启同步数据源后，会先从源系统获取变更，再同步到钉钉。"
    ).classes("text-grey-7 q-mb-md")
    live_progress_panel(org_id)

    with ui.card().classes("landing-card w-full"):
        ui.label("定时同步").classes("text-subtitle1")
        with ui.row().classes("items-start gap-6 w-full"):
            with ui.column().classes("gap-1"):
                cron = (
                    ui.input("Cron表达式", value=view.cron).props("outlined dense").mark("cron").style("width: 260px")
                )
                ui.label("分 时 日 月 周，例如 0 */2 * * * 表示每两小时").classes("text-caption text-grey-6")
            with ui.column().classes("gap-1"):
                ui.label("接下来5次执行时间").classes("text-caption text-grey-7")
                upcoming = ui.column().classes("gap-0").mark("next-runs")
                ui.label(f"按 {localtime.label()} 计算").classes("text-caption text-grey-6").mark("cron-zone")
            with ui.column().classes("gap-1"):
                threshold = (
                    ui.number("删除记录阈值 (%)", value=view.delete_threshold, min=0, max=100, step=1, format="%d")
                    .props("outlined dense")
                    .mark("threshold")
                    .style("width: 180px")
                )
                ui.label("删除数量超过该比例时暂停删除（其他变更照常同步），等待批准；不限制时设为 100").classes(
                    "text-caption text-grey-6"
                )
        with ui.row().classes("items-start gap-6 w-full q-mt-sm"):
            with ui.column().classes("gap-1"):
                reconcile_days = (
                    ui.number("全量核对周期（天）", value=view.reconcile_days, min=0, max=365, step=1, format="%d")
                    .props("outlined dense")
                    .mark("reconcile-days")
                    .style("width: 180px")
                )
                ui.label("定期与钉钉逐项核对并修复差异；0 表示只在全量同步时核对").classes("text-caption text-grey-6")
            with ui.column().classes("gap-1"):
                drop_guard = (
                    ui.number("源数据保护阈值 (%)", value=view.source_drop_guard, min=0, max=100, step=1, format="%d")
                    .props("outlined dense")
                    .mark("source-drop-guard")
                    .style("width: 180px")
                )
                ui.label(
                    "全量读取时源系统的人员或部门比已同步的少于该比例，视为源系统故障，不做修改；100 表示关闭"
                ).classes("text-caption text-grey-6")

    def show_next(times) -> None:
        upcoming.clear()
        with upcoming:
            for t in times:
                ui.label(f"{t:%Y-%m-%d %H:%M}").classes("text-body2")

    def on_cron_change() -> None:
        try:
            show_next(sync_settings.preview_cron(cron.value or ""))
            set_field_error(cron, None)
        except ServiceError as exc:
            set_field_error(cron, exc.message)
            show_next([])

    cron.on("blur", on_cron_change)
    show_next(view.next_runs)

    with ui.card().classes("landing-card w-full q-mt-md"):
        with ui.row().classes("items-center gap-4"):
            ui.label("同步数据源").classes("text-subtitle1")
            enabled = ui.switch("开启", value=view.source_enabled).mark("source-enabled")
        source_box = ui.column().classes("gap-2 w-full")
        with source_box:
            with ui.row().classes("gap-4"):
                source_type = (
                    ui.select(list(sync_settings.SOURCE_TYPES), value=view.source_type, label="源系统类型")
                    .props("outlined dense")
                    .style("width: 180px")
                    .mark("source-type")
                )
                source_name = ui.input("本系统名称", value=view.source_name).props("outlined dense").mark("source-name")
            source_url = (
                ui.input("同步地址 (域名)", value=view.source_url, placeholder="http://oa.example.com/ekp")
                .props("outlined dense")
                .classes("w-full")
                .style("max-width: 520px")
                .mark("source-url")
            )
            with ui.row().classes("gap-4"):
                source_user = ui.input("验权账号", value=view.source_user).props("outlined dense").mark("source-user")
                hint = (
                    f"已保存 {view.source_password_masked}，留空则不修改"
                    if view.has_password
                    else "允许匿名访问时可不填"
                )
                source_password = (
                    ui.input("验权密码", password=True, password_toggle_button=True, placeholder=hint)
                    .props("outlined dense")
                    .mark("source-password")
                    .style("width: 280px")
                )
            with ui.row().classes("items-center gap-2"):
                check_button = ui.button("检测连接").props("outline color=primary").mark("check-connection")
                check_result = ui.label("").mark("check-result")
        source_box.bind_visibility_from(enabled, "value")

    fields = {
        "cron": cron,
        "delete_threshold": threshold,
        "reconcile_days": reconcile_days,
        "source_drop_guard": drop_guard,
        "source_type": source_type,
        "source_name": source_name,
        "source_url": source_url,
    }

    def form() -> sync_settings.SettingsInput:
        return sync_settings.SettingsInput(
            cron=cron.value or "",
            delete_threshold=threshold.value if threshold.value is not None else "",
            reconcile_days=reconcile_days.value if reconcile_days.value is not None else "",
            source_drop_guard=drop_guard.value if drop_guard.value is not None else "",
            source_enabled=bool(enabled.value),
            source_type=source_type.value or "EKP",
            source_name=source_name.value or "",
            source_url=source_url.value or "",
            source_user=source_user.value or "",
            source_password=source_password.value or None,
        )

    errors = FieldErrors(notify=True)
    errors.inputs(fields)

    async def save() -> None:
        errors.clear()
        try:
            saved = await sync_settings.update_settings(actor(), org_id, form())
        except ServiceError as exc:
            errors.show(exc)
            return
        show_next(saved.next_runs)
        source_password.value = ""
        notify_ok("同步设置已保存")

    async def check() -> None:
        check_result.text = "正在检测…"
        try:
            ok, message = await sync_settings.check_connection(actor(), org_id, form(), http=running().http)
        except ServiceError as exc:
            check_result.text = exc.message
            check_result.classes(replace="text-negative")
            return
        check_result.text = message
        check_result.classes(replace="text-positive" if ok else "text-negative")

    check_button.on_click(check)

    async def run_now() -> None:
        try:
            run_id = await sync_settings.run_now(actor(), org_id, rt=running())
        except ServiceError as exc:
            notify_error(exc.message)
            return
        notify_ok(f"已开始同步（第 {run_id} 次），可在同步日志中查看结果")

    def ask_clear_cursors() -> None:
        ask(
            "清空同步时间戳？",
            "清空后下次同步将从数据源读取全部部门和人员（全量同步），已有的钉钉对应关系会保留。",
            on_ok=clear_cursors,
            ok="清空",
            ok_marker="confirm-clear",
        )

    async def clear_cursors() -> None:
        try:
            await sync_settings.clear_cursors(actor(), org_id)
        except ServiceError as exc:
            notify_error(exc.message)
            return
        cursor_label.text = "同步时间戳：已清空，下次同步为全量同步"
        notify_ok("已清空同步时间戳，下次同步将执行全量同步")

    cursors = (
        ", ".join(f"{k}: {v}" for k, v in view.cursors.items() if k in ("dept", "person")) or "无（下次为全量同步）"
    )
    with ui.row().classes("items-center gap-3 q-mt-md"):
        ui.button("保存", on_click=save).props("unelevated color=primary").mark("save")
        ui.button("立即同步", on_click=run_now).props("unelevated color=positive").mark("run-now")
        ui.button("清空同步时间戳", on_click=ask_clear_cursors).props("outline color=negative").mark("clear-cursors")
        cursor_label = ui.label(f"同步时间戳：{cursors}").classes("text-caption text-grey-7")
