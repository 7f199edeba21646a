"""通讯录 > 同步日志 (guide 3.3.6.3): the runs with filters, search, paging and 批量删除, and a detail page with the
summary, the error log and the detailed log (both downloadable), plus threshold approval."""

from __future__ import annotations

from nicegui import ui

from app.components.confirm_dialog import ask
from app.components.frame import actor, notify_error, notify_ok, page, page_title
from app.components.paged_table import PagedTable, page_of
from app.core import localtime
from app.pages.sync_settings import live_progress_panel
from app.services import sync_runs
from app.services.errors import ServiceError
from app.services.permissions import Perm

RESULT_COLORS = {"success": "positive", "warning": "warning", "failed": "negative", "running": "primary"}


@page(
    "/sync/logs",
    "同步日志",
    section="contacts",
    perm=Perm.SYNC_LOG_VIEW,
    needs_org=True,
    menu=("contacts.sync_logs", 30),
)
async def sync_logs_page() -> None:
    me = actor()
    org_id = me.current_org_id
    can_manage = me.can(Perm.SYNC_MANAGE, org_id)
    page_title("同步日志")
    live_progress_panel(org_id)
    with ui.row().classes("items-end gap-3"):
        keyword = (
            ui.input("概要日志", placeholder="请输入概要日志关键字").props("outlined dense clearable").mark("keyword")
        )
        result = (
            ui.select(
                {"": "全部结果", "success": "成功", "warning": "警告", "failed": "失败", "running": "进行中"},
                value="",
                label="同步结果",
            )
            .props("outlined dense")
            .style("min-width: 120px")
            .mark("result-filter")
        )
        trigger = (
            ui.select({"": "全部方式", "auto": "自动同步", "manual": "手动同步"}, value="", label="执行方式")
            .props("outlined dense")
            .style("min-width: 120px")
        )
        kind = (
            ui.select({"": "全部类型", "incremental": "增量", "full": "全量"}, value="", label="同步类型")
            .props("outlined dense")
            .style("min-width: 120px")
        )
        ui.button("查询", on_click=lambda: reload(reset=True)).props("unelevated color=primary").mark("search")
        if can_manage:
            ui.button("批量删除", on_click=lambda: confirm_delete()).props("outline color=negative").mark("bulk-delete")
    columns = [
        {"name": "number", "label": "序号", "field": "number", "align": "left"},
        {"name": "started", "label": "开始时间", "field": "started", "align": "left"},
        {"name": "trigger", "label": "执行方式", "field": "trigger", "align": "left"},
        {"name": "kind", "label": "同步类型", "field": "kind", "align": "left"},
        {"name": "result", "label": "同步结果", "field": "result", "align": "left"},
        {
            "name": "summary",
            "label": "概要日志",
            "field": "summary",
            "align": "left",
            "style": "white-space: normal; max-width: 640px",
        },
    ]

    async def fetch(page_no: int, size: int, _sort: str, _descending: bool) -> tuple[list[dict], int]:
        result_page = await sync_runs.list_runs(
            actor(),
            org_id,
            page=page_no,
            page_size=size,
            keyword=keyword.value or "",
            result=result.value or "",
            trigger=trigger.value or "",
            kind=kind.value or "",
        )
        rows = [
            {
                "id": r.id,
                "number": r.number,
                "started": localtime.fmt(r.started_at, localtime.MINUTES),
                "trigger": r.trigger,
                "kind": r.kind,
                "result": r.result,
                "color": RESULT_COLORS.get(r.result_code, "grey"),
                "summary": r.summary or r.error,
            }
            for r in result_page.rows
        ]
        return rows, result_page.total

    runs = PagedTable(
        columns,
        fetch,
        marker="runs-table",
        selection="multiple" if can_manage else None,
        empty_text="暂无同步日志",
    )
    table = runs.table
    table.props(remove="dense").classes("q-mt-md")
    table.add_slot(
        "body-cell-result",
        """<q-td :props="props"><q-badge :color="props.row.color">{{ props.value }}</q-badge></q-td>""",
    )
    table.add_slot(
        "body-cell-summary",
        """<q-td :props="props"><a class="text-primary cursor-pointer" :href="'/sync/logs/' + props.row.id">
        {{ props.value || '（无概要）' }}</a></q-td>""",
    )

    async def reload(reset: bool = False) -> None:
        await runs.reload(reset=reset)

    def confirm_delete() -> None:
        chosen = [row["id"] for row in table.selected]
        if not chosen:
            notify_error("请先选择要删除的同步日志")
            return
        ask(
            f"删除选中的 {len(chosen)} 条同步日志？",
            "删除后不可恢复；进行中的同步不会被删除。",
            on_ok=lambda: delete_selected(chosen),
            ok="删除",
            ok_marker="confirm-delete",
        )

    async def delete_selected(chosen: list[int]) -> None:
        try:
            count = await sync_runs.delete_runs(actor(), org_id, chosen)
        except ServiceError as exc:
            notify_error(exc.message)
            return
        notify_ok(f"已删除 {count} 条同步日志")
        await reload()

    keyword.on("keydown.enter", lambda: reload(reset=True))
    await reload()
    ui.timer(3.0, lambda: reload() if any(r["result"] == "进行中" for r in table.rows) else None)


@page("/sync/logs/{run_id}", "同步日志详情", section="contacts", perm=Perm.SYNC_LOG_VIEW, needs_org=True)
async def sync_log_detail_page(run_id: int) -> None:
    me = actor()
    try:
        run = await sync_runs.get_run(me, int(run_id))
    except ServiceError as exc:
        page_title("同步日志详情")
        ui.label(exc.message).classes("text-negative")
        return
    page_title("通讯录同步", ("返回列表", lambda: ui.navigate.to("/sync/logs")))
    with ui.card().classes("landing-card w-full").mark("run-detail"):
        with ui.grid(columns=4).classes("w-full gap-y-2"):
            for label, value in (
                ("执行方式", run.trigger),
                ("组织", run.org_name),
                ("同步类型", run.kind),
                ("同步结果", run.result),
                ("开始时间", localtime.fmt(run.started_at)),
                ("结束时间", localtime.fmt(run.ended_at, empty="—")),
            ):
                ui.label(label).classes("text-grey-7")
                ui.label(value).mark(f"detail-{label}")
        ui.label("概要日志").classes("text-grey-7 q-mt-md")
        ui.label(run.summary or "—").classes("text-body2").mark("detail-summary")
        if run.error:
            ui.label(run.error).classes("text-negative text-body2").mark("detail-error")
        if run.threshold_blocked:
            with ui.row().classes("items-center gap-3 q-mt-sm"):
                if run.approved:
                    ui.label("已批准本次删除，下次同步时执行").classes("text-positive").mark("approved")
                elif run.rejected:
                    ui.label("已拒绝本次删除，这些记录将保留").classes("text-grey-8").mark("rejected")
                elif me.can(Perm.SYNC_MANAGE, me.current_org_id):
                    ui.button("批准本次删除", on_click=lambda: decide_dialog(True)).props(
                        "unelevated color=warning"
                    ).mark("approve")
                    ui.button("拒绝", on_click=lambda: decide_dialog(False)).props("outline color=grey-8").mark(
                        "reject"
                    )
    if run.pending_removals:
        with ui.card().classes("landing-card w-full q-mt-md"):
            ui.label(f"暂停执行的删除（{len(run.pending_removals)} 条）").classes("text-subtitle1")
            removals = [{**r, "kind": "部门" if r["kind"] == "dept" else "人员"} for r in run.pending_removals]

            async def fetch_removals(page_no: int, size: int, sort: str, descending: bool) -> tuple[list[dict], int]:
                ordered = sorted(removals, key=lambda r: str(r.get(sort, "")), reverse=descending) if sort else removals
                return page_of(ordered, page_no, size)

            pending = PagedTable(
                [
                    {"name": "kind", "label": "类型", "field": "kind", "align": "left"},
                    {"name": "name", "label": "名称", "field": "name", "align": "left", "sortable": True},
                    {"name": "ding_id", "label": "钉钉ID", "field": "ding_id", "align": "left"},
                    {"name": "source_id", "label": "源系统ID", "field": "source_id", "align": "left"},
                    {"name": "why", "label": "原因", "field": "why", "align": "left"},
                ],
                fetch_removals,
                marker="pending-removals",
                selection=None,
            )
            await pending.reload()

    def decide_dialog(approve: bool) -> None:
        count = len(run.pending_removals)
        ask(
            "批准删除？" if approve else "拒绝删除？",
            f"下次同步将删除上表中的 {count} 条记录（人员置为无效并从钉钉删除）。"
            if approve
            else f"上表中的 {count} 条记录将保留，之后的同步不再删除它们；如确需删除，请在通讯录中手工处理。",
            on_ok=lambda: decide(approve),
            ok="批准" if approve else "拒绝",
            color="warning" if approve else "grey-8",
            ok_marker="confirm-approve" if approve else "confirm-reject",
        )

    async def decide(approve: bool) -> None:
        try:
            if approve:
                await sync_runs.approve_removals(actor(), run.id)
            else:
                await sync_runs.reject_removals(actor(), run.id)
        except ServiceError as exc:
            notify_error(exc.message)
            return
        notify_ok("已批准，下次同步时执行删除" if approve else "已拒绝，这些记录将保留")
        ui.navigate.reload()

    async def download(errors_only: bool) -> None:
        if errors_only:
            text = await sync_runs.error_log_text(actor(), run.id)
            name = f"sync-{run.id}-errors.txt"
        else:
            text = await sync_runs.detail_log_text(actor(), run.id)
            name = f"sync-{run.id}-detail.txt"
        ui.download(text.encode("utf-8"), name, media_type="text/plain; charset=utf-8")

    with ui.row().classes("gap-2 q-mt-md"):
        ui.button("下载详细日志", on_click=lambda: download(False)).props("outline color=primary").mark(
            "download-detail"
        )
        ui.button("下载错误日志", on_click=lambda: download(True)).props("outline color=primary").mark(
            "download-errors"
        )
    errors = await sync_runs.entries(me, run.id, errors_only=True, limit=200)
    details = await sync_runs.entries(me, run.id, limit=500)
    with ui.card().classes("landing-card w-full q-mt-md"):
        ui.label(f"错误日志（{len(errors)} 条）").classes("text-subtitle1")
        # Long logs scroll inside their card so the page (and the 下载 buttons) stay in reach.
        ui.code("\n".join(errors) or "无错误", language="text").classes("w-full").style(
            "max-height: 320px; overflow: auto"
        ).mark("error-log")
    with ui.card().classes("landing-card w-full q-mt-md"):
        ui.label("详细日志" + ("（前 500 条，完整内容请下载）" if len(details) >= 500 else "")).classes(
            "text-subtitle1"
        )
        ui.code("\n".join(details) or "无", language="text").classes("w-full").style(
            "max-height: 480px; overflow: auto"
        ).mark("detail-log")
