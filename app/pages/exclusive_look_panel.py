"""The 专属企业界面 tab of 设置 > 专属钉钉 (guide 2.1): uploads checked on arrival, the 整体效果预览 and the history."""

from __future__ import annotations

import base64

from nicegui import events, ui

from app.components.entity_form import FieldErrors
from app.components.frame import actor, notify_error, notify_ok
from app.services import exclusive_assets
from app.services.errors import ServiceError
from app.services.exclusive_assets import SPECS, AssetKind, AssetView, LookView

UPLOAD_LIMIT = 20 * 1024 * 1024  # the browser refuses anything larger; the 3M rule is checked on the server


def _data_url(data: bytes) -> str:
    kind = "png" if data[:8] == b"\x89PNG\r\n\x1a\n" else "jpeg"
    return f"data:image/{kind};base64,{base64.b64encode(data).decode()}"


def _describe(asset: AssetView) -> str:
    return (
        f"{asset.filename} · {asset.width}*{asset.height}px · {asset.image_format} · "
        f"{exclusive_assets.size_text(asset.size_bytes)}"
    )


# The uploader only takes one file and the card already says what is current: keep it to its header.
_CSS = ".landing-asset-upload .q-uploader__list { display: none; } .landing-asset-upload { max-height: none; }"


async def look_panel(org_id: int) -> None:
    ui.add_css(_CSS)

    @ui.refreshable
    async def content() -> None:
        view = await exclusive_assets.get_look(actor(), org_id)
        ui.label(
            "钉钉为专属企业提供登录页和移动端 APP 主题的定制化服务。钉钉开放平台没有设置这些内容的接口："
            "请在这里检查和预览后，下载图片，到“钉钉管理后台 > 设置 > 专属企业界面”上传。"
        ).classes("text-grey-7")
        with ui.row().classes("w-full gap-4 items-stretch"):
            for kind in SPECS:
                _upload_card(view, kind, content)
        _theme_card(view, content)
        _preview(view)
        _history(view, content)

    await content()


def _upload_card(view: LookView, kind: AssetKind, content: ui.refreshable) -> None:
    spec = SPECS[kind]
    current = view.current.get(kind)
    errors = FieldErrors()
    with (
        ui.card()
        .props("flat bordered")
        .classes("landing-card q-pa-md")
        .style("flex: 1; min-width: 280px")
        .mark(f"card-{kind.value}")
    ):
        ui.label(spec.label).classes("text-subtitle1 text-weight-medium")
        ui.label(f"要求{spec.rule}").classes("landing-hint")
        if current:
            ui.label(_describe(current)).classes("text-caption").mark(f"current-{kind.value}")
            if current.too_bright:
                ui.label(
                    f"背景偏亮（与白色文字对比度 {current.contrast:.1f}），"
                    "登录界面的白色文字可能看不清，建议使用深色图片"
                ).classes("text-warning text-caption").mark(f"bright-{kind.value}")
        else:
            ui.label("未上传").classes("text-grey-6 text-caption").mark(f"current-{kind.value}")

        async def handle(e: events.UploadEventArguments) -> None:
            errors.clear()
            data = await e.file.read()
            try:
                asset = await exclusive_assets.upload(actor(), view.org_id, kind, e.file.name, data)
            except ServiceError as exc:
                errors.show(exc)
                uploader.reset()
                return
            message = f"已上传{spec.label}：{asset.width}*{asset.height}px"
            if asset.too_bright:
                message += "；背景偏亮，建议使用深色图片"
            # Rebuild the cards first, then say so: when the message shows, the new cards (and their uploaders)
            # are on the page. The refresh removes this card, so the message goes through the page's client.
            client = ui.context.client
            content.refresh()
            with client:
                notify_ok(message)

        uploader = (
            ui.upload(
                label=f"上传{spec.label}",
                auto_upload=True,
                max_file_size=UPLOAD_LIMIT,
                on_upload=handle,
                on_rejected=lambda: notify_error(
                    f"{spec.label}文件过大，大小不能超过 {spec.max_bytes // 1024 // 1024}M"
                ),
            )
            .props("accept=.png,.jpg,.jpeg flat bordered")
            .classes("w-full landing-asset-upload")
            .mark(f"upload-{kind.value}")
        )
        errors.slot(kind.value)


def _theme_card(view: LookView, content: ui.refreshable) -> None:
    errors = FieldErrors()
    with ui.card().props("flat bordered").classes("landing-card q-pa-md q-mt-md").mark("theme-card"):
        ui.label("主题色").classes("text-subtitle1 text-weight-medium")
        ui.label("将专属钉钉内的应用配置成企业对应的主题色，建议色系与企业 LOGO 或企业主色调相似。").classes(
            "landing-hint"
        )
        with ui.row().classes("items-start gap-2"):
            color = errors.input(
                "theme_color",
                ui.color_input("主题色", value=view.theme_color)
                .props("outlined dense")
                .style("width: 220px")
                .mark("theme-color"),
            )

            async def save() -> None:
                errors.clear()
                try:
                    saved = await exclusive_assets.set_theme_color(actor(), view.org_id, color.value or "")
                except ServiceError as exc:
                    errors.show(exc)
                    return
                notify_ok(f"主题色已保存：{saved}")
                content.refresh()

            ui.button("保存主题色", on_click=save).props("unelevated color=primary").mark("save-theme")


def _screen(preview: bytes | None, *, width: int, height: int, radius: int, marker: str) -> ui.element:
    """A device frame with the background (an image element: a data URL cannot go into a NiceGUI style string)."""
    frame = (
        ui.element("div")
        .style(
            f"width: {width}px; height: {height}px; border-radius: {radius}px; border: 6px solid #222; "
            "background: #3a4150; position: relative; overflow: hidden"
        )
        .mark(marker)
    )
    with frame:
        if preview:
            ui.image(_data_url(preview)).classes("absolute-full").props("fit=cover no-spinner no-transition")
    return frame


_LINE = "border-bottom: 1px solid rgba(255,255,255,.8); font-size: 12px"


def _phone(view: LookView) -> None:
    with ui.column().classes("items-center gap-1"):
        with _screen(
            view.previews.get(AssetKind.PHONE_BACKGROUND), width=180, height=390, radius=22, marker="preview-phone"
        ):
            with ui.column().classes("absolute-full items-center gap-2").style("color: #fff; padding-top: 90px"):
                ui.label("专属钉钉").style("font-size: 20px; font-weight: 600; margin-bottom: 24px")
                ui.label("手机号").style(f"width: 140px; {_LINE}")
                ui.label("密码").style(f"width: 140px; {_LINE}")
                ui.label("登录").style(
                    "width: 140px; text-align: center; border: 1px solid #fff; border-radius: 16px; padding: 4px"
                )
                ui.label("域账号登录").style("font-size: 11px; opacity: .9")
        ui.label("手机端登录页").classes("text-caption text-grey-7")


def _ipad(view: LookView) -> None:
    with ui.column().classes("items-center gap-1"):
        with _screen(
            view.previews.get(AssetKind.IPAD_BACKGROUND), width=320, height=240, radius=14, marker="preview-ipad"
        ):
            with ui.column().classes("absolute-full items-center justify-center gap-2").style("color: #fff"):
                ui.label("专属钉钉").style("font-size: 18px; font-weight: 600")
                ui.label("手机号 / 密码").style(f"width: 160px; {_LINE}")
                ui.label("登录").style("width: 160px; text-align: center; border: 1px solid #fff; border-radius: 14px")
        ui.label("iPad 端登录页").classes("text-caption text-grey-7")


def _app_header(view: LookView) -> None:
    logo = view.previews.get(AssetKind.LOGO)
    with ui.column().classes("items-center gap-1"):
        with (
            ui.element("div")
            .style("width: 320px; border-radius: 10px; overflow: hidden; border: 1px solid #ddd; background: #fff")
            .mark("preview-header")
        ):
            with (
                ui.row()
                .classes("items-center no-wrap q-px-sm")
                .style(f"background: {view.theme_color}; height: 48px; color: #fff")
            ):
                if logo:
                    ui.image(_data_url(logo)).style("width: 107px; height: 40px").props("fit=contain")
                else:
                    ui.label("企业 LOGO").style("font-weight: 600")
                ui.space()
                ui.icon("search")
                ui.icon("add_circle_outline")
            with ui.row().classes("justify-around q-py-md").style("color: #666"):
                for label in ("消息", "工作台", "通讯录", "我的"):
                    ui.label(label).style(f"color: {view.theme_color}" if label == "工作台" else "")
        ui.label(f"应用主界面（主题色 {view.theme_color}）").classes("text-caption text-grey-7")


def _preview(view: LookView) -> None:
    with ui.card().props("flat bordered").classes("landing-card q-pa-md q-mt-md").mark("preview"):
        ui.label("整体效果预览").classes("text-subtitle1 text-weight-medium")
        bright = [
            view.current[k].label
            for k in exclusive_assets.BACKGROUNDS
            if k in view.current and view.current[k].too_bright
        ]
        if bright:
            ui.label(f"{'、'.join(bright)}偏亮：登录界面的文字是白色的，建议使用深色图片").classes("text-warning").mark(
                "preview-warning"
            )
        with ui.row().classes("w-full gap-8 items-end justify-center q-py-md"):
            _phone(view)
            _ipad(view)
            _app_header(view)

        async def download_set() -> None:
            try:
                name, data = await exclusive_assets.download_set(actor(), view.org_id)
            except ServiceError as exc:
                notify_error(exc.message)
                return
            ui.download.content(data, name, "application/zip")

        with ui.row().classes("w-full justify-end"):
            ui.button("下载全部图片（上传到钉钉管理后台）", icon="download", on_click=download_set).props(
                "outline color=primary"
            ).mark("download-set")


def _history(view: LookView, content: ui.refreshable) -> None:
    with ui.card().props("flat bordered").classes("landing-card q-pa-md q-mt-md").mark("history"):
        ui.label("上传历史").classes("text-subtitle1 text-weight-medium")
        if not view.history:
            ui.label("还没有上传记录").classes("text-grey-6").mark("history-empty")
            return
        columns = [
            {"name": "label", "label": "类型", "field": "label", "align": "left"},
            {"name": "filename", "label": "文件名", "field": "filename", "align": "left"},
            {"name": "size", "label": "尺寸", "field": "size", "align": "left"},
            {"name": "bytes", "label": "大小", "field": "bytes", "align": "left"},
            {"name": "by", "label": "上传人", "field": "by", "align": "left"},
            {"name": "at", "label": "上传时间", "field": "at", "align": "left"},
            {"name": "state", "label": "状态", "field": "state", "align": "left"},
            {"name": "actions", "label": "操作", "field": "id", "align": "left"},
        ]
        rows = [
            {
                "id": a.id,
                "label": a.label,
                "filename": a.filename,
                "size": f"{a.width}*{a.height}px",
                "bytes": exclusive_assets.size_text(a.size_bytes),
                "by": a.uploaded_by,
                "at": a.uploaded_at.astimezone().strftime("%Y-%m-%d %H:%M"),
                "state": "使用中" if a.is_current else "",
                "current": a.is_current,
            }
            for a in view.history
        ]
        table = (
            ui.table(columns=columns, rows=rows, row_key="id")
            .props("flat dense")
            .classes("w-full")
            .mark("history-table")
        )
        table.add_slot(
            "body-cell-actions",
            """<q-td :props="props">
                 <q-btn flat dense size="sm" color="primary" label="下载"
                        @click="$parent.$emit('download', props.row)" />
                 <q-btn v-if="!props.row.current" flat dense size="sm" color="primary" label="设为当前"
                        @click="$parent.$emit('restore', props.row)" />
               </q-td>""",
        )

        async def download(e: events.GenericEventArguments) -> None:
            try:
                name, data = await exclusive_assets.download_asset(actor(), view.org_id, int(e.args["id"]))
            except ServiceError as exc:
                notify_error(exc.message)
                return
            ui.download.content(data, name)

        async def restore(e: events.GenericEventArguments) -> None:
            try:
                asset = await exclusive_assets.make_current(actor(), view.org_id, int(e.args["id"]))
            except ServiceError as exc:
                notify_error(exc.message)
                return
            notify_ok(f"已恢复{asset.label}：{asset.filename}")
            content.refresh()

        table.on("download", download)
        table.on("restore", restore)
