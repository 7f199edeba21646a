"""4.2 通讯录映射表: 部门映射表 and 人员映射表, searchable and paged, with 更新通讯录 (incremental or full)."""

from __future__ import annotations

from nicegui import ui

from app.components.paged_table import PagedTable
from app.connector.pages.frame import current_admin, notify_error, notify_ok, page, running
from app.connector.services import mapping
from app.connector.services.errors import ConnectorError

DEPT_COLUMNS = [
    {"name": "seq", "label": "序号", "field": "seq", "align": "left"},
    {"name": "name", "label": "EKP部门名称", "field": "name", "align": "left"},
    {"name": "ekp_id", "label": "EKP部门ID", "field": "ekp_id", "align": "left"},
    {"name": "ding_id", "label": "钉钉部门ID", "field": "ding_id", "align": "left"},
]
PERSON_COLUMNS = [
    {"name": "seq", "label": "序号", "field": "seq", "align": "left"},
    {"name": "name", "label": "EKP人员姓名", "field": "name", "align": "left"},
    {"name": "login_name", "label": "EKP登录名", "field": "login_name", "align": "left"},
    {"name": "ding_userid", "label": "钉钉人员账号", "field": "ding_userid", "align": "left"},
]


def _searchable(label: str, columns: list[dict], rows, marker: str, empty: str) -> PagedTable:
    """A search box over a paged table; ``rows(keyword, page, size)`` returns (rows, total)."""
    search = ui.input(label).props("outlined dense clearable").style("min-width: 320px")

    async def fetch(page_no: int, size: int, _sort: str, _desc: bool):
        return await rows(search.value or "", page_no, size)

    table = PagedTable(columns, fetch, marker=marker, size=20, selection=None, empty_text=empty)
    search.on("keydown.enter", lambda: table.reload(reset=True))
    search.on("clear", lambda: table.reload(reset=True))
    return table


@page("/mapping", "通讯录映射表")
async def mapping_page(tab: str = "dept") -> None:
    counts_label = ui.label("").classes("text-grey-7").mark("mapping-counts")

    async def show_counts() -> None:
        c = await mapping.counts()
        counts_label.set_text(
            f"部门 {c['depts']} 个（未映射 {c['depts_unmapped']}），"
            f"人员 {c['persons']} 人（未映射 {c['persons_unmapped']}）"
        )

    async def depts(keyword: str, page_no: int, size: int):
        rows, total = await mapping.dept_page(keyword, (page_no - 1) * size, size)
        return [
            {
                "id": r.id,
                "seq": (page_no - 1) * size + i + 1,
                "name": r.name or "（未取到名称）",
                "ekp_id": r.ekp_id,
                "ding_id": r.ding_id,
            }
            for i, r in enumerate(rows)
        ], total

    async def persons(keyword: str, page_no: int, size: int):
        rows, total = await mapping.person_page(keyword, (page_no - 1) * size, size)
        return [
            {
                "id": r.id,
                "seq": (page_no - 1) * size + i + 1,
                "name": r.name or "（未取到姓名）",
                "login_name": r.login_name or r.ekp_id,
                "ding_userid": r.ding_userid if r.ding_status != "missing" else f"{r.ding_userid}（钉钉中不存在）",
            }
            for i, r in enumerate(rows)
        ], total

    async def update(full: bool) -> None:
        button.disable()
        try:
            result = await mapping.pull(rt=running(), full=full, actor=current_admin())
        except ConnectorError as exc:
            notify_error(exc.message)
            return
        finally:
            button.enable()
        notify_ok(("全量" if full else "增量") + "更新完成：" + result.summary())
        await dept_table.reload()
        await person_table.reload()
        await show_counts()

    with ui.row().classes("w-full items-center"):
        full_reload = ui.checkbox("全量重新加载").tooltip("从头拉取全部映射，并删除管理平台已不再返回的行")
        button = ui.button("更新通讯录", on_click=lambda: update(full_reload.value)).props("unelevated color=primary")
        ui.label("管理平台有人员变化时会实时通知本组件更新；也可手动更新。").classes("landing-hint")
    with ui.tabs(value=tab).classes("text-primary") as tabs:
        ui.tab("dept", "部门映射表")
        ui.tab("person", "人员映射表")
    with ui.tab_panels(tabs, value=tab).classes("w-full landing-card"):
        with ui.tab_panel("dept"):
            dept_table = _searchable(
                "搜索部门名称 / EKP部门ID / 钉钉部门ID",
                DEPT_COLUMNS,
                depts,
                "dept-map",
                "部门映射表为空：请先绑定并更新通讯录",
            )
        with ui.tab_panel("person"):
            person_table = _searchable(
                "搜索姓名 / 登录名 / 钉钉人员账号",
                PERSON_COLUMNS,
                persons,
                "person-map",
                "人员映射表为空：单点登录和待办推送都不可使用",
            )
    await dept_table.reload()
    await person_table.reload()
    await show_counts()
