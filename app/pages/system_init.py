"""设置 > 系统初始化 (guide 3.2.1)."""

from __future__ import annotations

from nicegui import ui

from app.components.frame import actor, notify_ok, page, page_title
from app.core import localtime
from app.core.config import get_settings
from app.services import system_init
from app.services.permissions import Perm


@page("/settings/init", "系统初始化", section="settings", perm=Perm.SYSTEM_INIT, menu=("settings.init", 40))
async def system_init_page() -> None:
    page_title("系统初始化")
    ui.label("执行初始化会导入蓝钉默认角色、系统权限等 9 项内容；重复执行不会覆盖已有配置。").classes("text-grey-7")
    last = await system_init.last_run()
    status = (
        ui.label(
            f"上次执行：{localtime.fmt(last.ran_at, localtime.MINUTES)}（{last.account_login}）"
            if last
            else "尚未执行过初始化"
        )
        .classes("text-grey-7")
        .mark("init-status")
    )
    columns = [
        {"name": "idx", "label": "序号", "field": "idx", "align": "left"},
        {"name": "name", "label": "初始化项", "field": "name", "align": "left"},
        {"name": "result", "label": "结果", "field": "result", "align": "left"},
    ]
    rows = [{"idx": i + 1, "name": name, "result": "待执行"} for i, (name, _) in enumerate(system_init.ITEMS)]
    table = (
        ui.table(columns=columns, rows=rows, row_key="idx")
        .classes("landing-card q-mt-md")
        .props("flat bordered")
        .mark("init-items")
    )

    async def run() -> None:
        button.disable()
        try:
            results = await system_init.run(actor(), get_settings().effective_public_base_url)
        finally:
            button.enable()
        table.rows = [{"idx": i + 1, "name": r.name, "result": r.message} for i, r in enumerate(results)]
        table.update()
        changed = sum(1 for r in results if r.changed)
        status.set_text(f"本次执行完成：{changed} 项有变化，{len(results) - changed} 项无变化")
        notify_ok("初始化完成" if changed else "初始化完成：所有项目已是最新，无变化")

    button = ui.button("执行初始化", on_click=run).props("unelevated color=primary").mark("run-init").classes("q-mt-md")
