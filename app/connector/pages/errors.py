"""4.4 钉钉集成异常信息: pushes that failed, with the error; 重试 now or 忽略 (with confirmation)."""

from __future__ import annotations

from nicegui import ui

from app.components.paged_table import PagedTable
from app.connector.pages.frame import confirm, current_admin, notify_error, notify_ok, page, running
from app.connector.services import push
from app.connector.services.errors import ConnectorError

COLUMNS = [
    {"name": "subject", "label": "待办标题", "field": "subject", "align": "left"},
    {"name": "method", "label": "来源方法", "field": "method", "align": "left"},
    {"name": "action", "label": "推送动作", "field": "action", "align": "left"},
    {"name": "recipient", "label": "接收人", "field": "recipient", "align": "left"},
    {"name": "error", "label": "异常信息", "field": "error", "align": "left", "style": "white-space: normal"},
    {"name": "attempts", "label": "已尝试", "field": "attempts", "align": "left"},
    {"name": "next", "label": "下次重试", "field": "next", "align": "left"},
    {"name": "ops", "label": "操作", "field": "id", "align": "left"},
]


@page("/errors", "钉钉集成异常信息")
async def errors_page() -> None:
    ui.label(
        f"推送失败的待办每 {push.RETRY_MINUTES} 分钟起按退避自动重试，最多 {push.MAX_ATTEMPTS} 次；也可手动重试或忽略。"
    ).classes("landing-hint")

    async def fetch(page_no: int, size: int, _sort: str, _desc: bool):
        rows, total = await push.error_page(search.value or "", (page_no - 1) * size, size)
        return [
            {
                "id": r.id,
                "subject": r.subject,
                "method": r.method,
                "action": push.ACTION_NAMES.get(r.action, r.action),
                "recipient": r.recipient,
                "error": r.last_error,
                "attempts": r.attempts,
                "next": "不再自动重试" if r.state == "failed" else f"{r.next_attempt_at:%Y-%m-%d %H:%M}",
            }
            for r in rows
        ], total

    async def act(call, job_id: int, done_text: str) -> None:
        try:
            await call(job_id, current_admin())
        except ConnectorError as exc:
            notify_error(exc.message)
        else:
            notify_ok(done_text)
        await table.reload()

    async def retry(job_id: int, admin: int | None) -> None:
        await push.retry(job_id, admin, wakeup=running().push_wakeup)

    search = ui.input("搜索待办标题").props("outlined dense clearable")
    table = PagedTable(COLUMNS, fetch, marker="errors", size=20, selection=None, empty_text="没有异常信息")
    search.on("keydown.enter", lambda: table.reload(reset=True))
    table.table.add_slot(
        "body-cell-ops",
        '<q-td :props="props"><q-btn flat dense color="primary" label="重试" '
        "@click=\"() => $parent.$emit('retry', props.row.id)\" />"
        '<q-btn flat dense color="negative" label="忽略" '
        "@click=\"() => $parent.$emit('ignore', props.row.id)\" /></q-td>",
    )
    table.table.on("retry", lambda e: act(retry, int(e.args), "已加入重试"))
    table.table.on(
        "ignore",
        lambda e: confirm(
            "忽略异常", "忽略后不再重试推送，确定忽略？", lambda: act(push.ignore, int(e.args), "已忽略"), "忽略"
        ),
    )
    await table.reload()
