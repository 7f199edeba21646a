"""首页: is the component bound, how full are the mapping tables, how many 异常信息 wait."""

from __future__ import annotations

from nicegui import ui

from app.connector.pages.frame import page
from app.connector.services import overview


def _tile(label: str, value: str, hint: str = "", link: str = "", warn: bool = False) -> None:
    with ui.card().classes("q-pa-md").style("min-width: 200px"):
        ui.label(label).classes("text-grey-7")
        text = ui.label(value).classes("text-h5 " + ("text-negative" if warn else "text-primary"))
        text.mark(f"tile-{label}")
        if hint:
            ui.label(hint).classes("landing-hint")
        if link:
            ui.link("查看", link)


@page("/", "首页")
async def home_page() -> None:
    data = await overview.overview()
    if data.bound is None:
        with ui.card().classes("landing-card q-pa-md"):
            ui.label("尚未绑定蓝钉管理平台").classes("text-h6")
            ui.label("绑定后才能免登录、扫码登录和推送待办。").classes("text-grey-7")
            ui.button("去绑定", on_click=lambda: ui.navigate.to("/config")).props("unelevated color=primary")
    else:
        b = data.bound
        ui.label(f"已绑定：{b.org_name}（{b.corp_id}），绑定时间 {b.bound_at:%Y-%m-%d %H:%M:%S}").classes("text-grey-8")
        if b.last_sync_result:
            ui.label(f"最近更新通讯录：{b.last_sync_result}").classes("landing-hint")
    with ui.row().classes("gap-4"):
        c = data.counts
        _tile(
            "人员映射",
            str(c["persons"]),
            f"未映射 {c['persons_unmapped']} 人",
            "/mapping?tab=person",
            warn=bool(c["persons_unmapped"]),
        )
        _tile("部门映射", str(c["depts"]), f"未映射 {c['depts_unmapped']} 个", "/mapping")
        _tile("未处理待办（人次）", str(data.open_todos), "业务系统发来、尚未处理或删除", "/logs")
        _tile("钉钉集成异常信息", str(data.errors), "推送失败、待重试或需处理", "/errors", warn=bool(data.errors))
