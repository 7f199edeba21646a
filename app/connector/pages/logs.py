"""4.3 接口日志: DingTalk calls made and todo / login calls received; filters, detail with pretty JSON, download."""

from __future__ import annotations

from datetime import datetime, timedelta

from nicegui import ui

from app.components.paged_table import PagedTable
from app.connector.pages.frame import page
from app.connector.services import interface_log

LOCAL = datetime.now().astimezone().tzinfo  # dates typed on the page are the server's local days

COLUMNS = [
    {"name": "seq", "label": "序号", "field": "seq", "align": "left"},
    {"name": "function", "label": "功能名称", "field": "function", "align": "left"},
    {"name": "interface", "label": "接口名称", "field": "interface", "align": "left"},
    {
        "name": "request",
        "label": "发送信息",
        "field": "request",
        "align": "left",
        "style": "max-width: 320px; overflow: hidden; text-overflow: ellipsis",
    },
    {"name": "sent_at", "label": "发送时间", "field": "sent_at", "align": "left"},
    {
        "name": "response",
        "label": "返回信息",
        "field": "response",
        "align": "left",
        "style": "max-width: 320px; overflow: hidden; text-overflow: ellipsis",
    },
    {"name": "returned_at", "label": "返回时间", "field": "returned_at", "align": "left"},
    {"name": "result", "label": "结果", "field": "result", "align": "left"},
]


def _one_line(text: str) -> str:
    flat = " ".join(text.split())
    return flat[:80] + ("…" if len(flat) > 80 else "")


@page("/logs", "接口日志")
async def logs_page() -> None:
    def day(text: str | None, plus: int = 0) -> datetime | None:
        try:
            return datetime.strptime(text or "", "%Y-%m-%d").replace(tzinfo=LOCAL) + timedelta(days=plus)
        except ValueError:
            return None

    def filters() -> dict:
        ok = {"成功": True, "失败": False}.get(status.value)
        return {
            "function": function.value or "",
            "keyword": keyword.value or "",
            "ok": ok,
            "since": day(since.value),
            "until": day(until.value, 1),
        }

    async def fetch(page_no: int, size: int, _sort: str, _desc: bool):
        rows, total = await interface_log.page(**filters(), offset=(page_no - 1) * size, limit=size)
        return [
            {
                "id": r.id,
                "seq": (page_no - 1) * size + i + 1,
                "function": r.function,
                "interface": r.interface,
                "request": _one_line(r.request),
                "sent_at": f"{r.sent_at:%Y-%m-%d %H:%M:%S}",
                "response": _one_line(r.response),
                "returned_at": f"{r.returned_at:%Y-%m-%d %H:%M:%S}" if r.returned_at else "",
                "result": "成功" if r.ok else "失败",
            }
            for i, r in enumerate(rows)
        ], total

    async def show(event) -> None:
        row = await interface_log.get(int(event.args[1]["id"]))
        if row is None:
            return
        with ui.dialog() as dialog, ui.card().style("min-width: 720px; max-width: 90vw"):
            ui.label(f"{row.function} · {row.interface}").classes("text-h6")
            ui.label(f"发送时间 {row.sent_at:%Y-%m-%d %H:%M:%S}").classes("landing-hint")
            ui.label("发送信息").classes("text-subtitle2")
            ui.code(row.request or "（无）", language="json").classes("w-full")
            ui.label("返回信息").classes("text-subtitle2")
            ui.code(row.response or "（无）", language="json").classes("w-full")
            ui.button("关闭", on_click=dialog.close).props("flat")
        dialog.open()

    async def download() -> None:
        text = await interface_log.download(**filters())
        ui.download.content(text.encode("utf-8"), "接口日志.txt", "text/plain; charset=utf-8")

    with ui.row().classes("items-center gap-2"):
        function = ui.select(["", *interface_log.FUNCTIONS], value="", label="功能名称").props("outlined dense")
        function.style("min-width: 140px")
        keyword = ui.input("接口名称").props("outlined dense clearable")
        status = ui.select(["", "成功", "失败"], value="", label="结果").props("outlined dense")
        status.style("min-width: 100px")
        since = ui.input("发送时间从").props("outlined dense type=date stack-label")
        until = ui.input("到").props("outlined dense type=date stack-label")
        ui.button("查询", on_click=lambda: table.reload(reset=True)).props("unelevated color=primary")
        ui.button("下载", on_click=download).props("outline color=primary")
    table = PagedTable(COLUMNS, fetch, marker="logs", size=20, selection=None, empty_text="暂无接口日志")
    table.table.classes("landing-clickable-rows")
    table.table.on("rowClick", show)
    await table.reload()
