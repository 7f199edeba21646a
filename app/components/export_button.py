"""One 导出 button for every export: pick xlsx or csv, watch the progress, get the file.

The export itself runs in the background (``app.services.exports``); this component only starts it, polls its
progress twice a second and hands the finished file to the browser, so the page stays usable the whole time.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from nicegui import ui

from app.components.frame import actor, notify_error, notify_ok
from app.services import exports
from app.services.errors import ServiceError

Starter = Callable[[str], Awaitable[exports.ExportJob]]


def export_button(start: Starter, *, marker: str = "export", label: str = "导出") -> ui.button:
    with ui.dialog() as dialog, ui.card().classes("q-pa-md").style("min-width: 360px").mark(f"{marker}-dialog"):
        title = ui.label("").classes("text-subtitle1 text-weight-medium")
        bar = ui.linear_progress(value=0, show_value=False).props("rounded size=10px")
        status = ui.label("").classes("text-grey-7").mark(f"{marker}-status")
        with ui.row().classes("w-full justify-end"):
            ui.button("关闭", on_click=dialog.close).props("flat")

    state: dict = {"job": None}

    def poll() -> None:
        job = state["job"]
        if job is None:
            return
        bar.value = job.percent / 100
        if job.state == "running":
            status.text = f"正在导出：{job.done:,} / {job.total:,} 行"
            return
        timer.deactivate()
        state["job"] = None
        if job.state == "failed":
            status.text = job.error
            notify_error(job.error)
            return
        status.text = f"已完成：共 {job.done:,} 行，文件 {job.filename}"
        ui.download.from_url(f"/exports/{job.id}", job.filename)
        notify_ok("导出完成，文件已开始下载")

    timer = ui.timer(0.5, poll, active=False)

    async def run(fmt: str) -> None:
        try:
            job = await start(fmt)
        except ServiceError as exc:
            notify_error(exc.message)
            return
        exports.job_of(actor(), job.id)  # the job belongs to this admin
        state["job"] = job
        title.text = f"导出{job.title}（{fmt}）"
        bar.value = 0
        status.text = "正在准备…"
        dialog.open()
        timer.activate()

    with ui.button(label, icon="download").props("outline color=primary").mark(marker) as button:
        with ui.menu().mark(f"{marker}-menu"):
            ui.menu_item("导出 Excel（xlsx）", on_click=lambda: run("xlsx")).mark(f"{marker}-xlsx")
            ui.menu_item("导出 CSV", on_click=lambda: run("csv")).mark(f"{marker}-csv")
    return button
