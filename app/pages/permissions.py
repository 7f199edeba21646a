"""权限管理: the role/permission matrix, the admin accounts and the audit log."""

from __future__ import annotations

import json
from datetime import timedelta

from nicegui import ui

from app.components.export_button import export_button
from app.components.frame import actor, empty_state, page, page_title, running
from app.components.paged_table import PagedTable
from app.core import localtime
from app.pages.api_tokens_section import token_section
from app.services import admin_directory, audit, exports
from app.services.permissions import PERMISSION_NAMES, ROLE_NAMES, ROLE_PERMISSIONS, Perm


@page(
    "/permissions/roles", "角色权限", section="permissions", perm=Perm.PERMISSION_VIEW, menu=("permissions.roles", 10)
)
async def roles_page() -> None:
    page_title("角色权限")
    ui.label(
        "权限大小：超级管理员 > 组织管理员 > 子管理员 > 部门管理员。部门管理员只能维护自己负责的部门及其下级。"
    ).classes("text-grey-7 q-mb-md")
    roles = list(ROLE_NAMES)
    columns = [
        {"name": "perm", "label": "权限", "field": "perm", "align": "left"},
        {"name": "group", "label": "分组", "field": "group", "align": "left"},
    ]
    columns += [{"name": r.value, "label": ROLE_NAMES[r], "field": r.value, "align": "center"} for r in roles]
    rows = []
    for perm in Perm:
        name, group = PERMISSION_NAMES[perm]
        row = {"perm": name, "group": group}
        row.update({r.value: "✓" if perm in ROLE_PERMISSIONS[r] else "—" for r in roles})
        rows.append(row)
    ui.table(columns=columns, rows=rows, row_key="perm").props("flat bordered dense").classes("landing-card")


@page(
    "/permissions/admins", "管理员", section="permissions", perm=Perm.PERMISSION_VIEW, menu=("permissions.admins", 20)
)
async def admins_page() -> None:
    page_title("管理员")
    ui.label("各组织的管理员账号及其角色；新建的管理员以初始密码 123456 登录，首次登录须修改密码。").classes(
        "text-grey-7 q-mb-md"
    )
    rows = await admin_directory.list_admins(actor())
    if not rows:
        empty_state("暂无管理员")
        await token_section()
        return
    columns = [
        {"name": "login", "label": "登录名", "field": "login", "align": "left", "sortable": True},
        {"name": "name", "label": "姓名", "field": "name", "align": "left", "sortable": True},
        {"name": "role", "label": "角色", "field": "role", "align": "left"},
        {"name": "org", "label": "组织", "field": "org", "align": "left", "sortable": True},
        {"name": "state", "label": "状态", "field": "state", "align": "left"},
    ]

    async def fetch(page_no: int, size: int, sort: str, desc: bool):
        ordered = admin_directory.sort_rows(rows, sort or "org", desc)
        return ordered[(page_no - 1) * size : page_no * size], len(ordered)

    table = PagedTable(columns, fetch, row_key="key", marker="admins-table", selection=None, empty_text="暂无管理员")
    await table.reload()
    await token_section()


@page("/permissions/audit", "审计日志", section="permissions", perm=Perm.AUDIT_VIEW, menu=("permissions.audit", 30))
async def audit_page() -> None:
    page_title("审计日志")
    size = 20
    with ui.row().classes("items-end gap-3"):
        keyword = ui.input("关键字", placeholder="操作对象 / 账号 / 说明").props("outlined dense clearable")
        action = (
            ui.select(
                {
                    "": "全部操作",
                    "login": "登录",
                    "account": "账号",
                    "system": "系统",
                    "org": "组织",
                    "contacts": "通讯录",
                    "sync": "同步",
                    "access": "接入系统",
                },
                value="",
                label="操作类型",
            )
            .props("outlined dense")
            .style("min-width: 140px")
        )
        days = (
            ui.select({0: "全部时间", 1: "最近 1 天", 7: "最近 7 天", 30: "最近 30 天"}, value=0, label="时间")
            .props("outlined dense")
            .style("min-width: 120px")
        )
        ui.button("查询", on_click=lambda: reload(reset=True)).props("unelevated color=primary")
        export_button(
            lambda fmt: exports.start_audit_export(
                actor(),
                fmt,
                keyword=keyword.value or "",
                action=action.value or "",
                since=localtime.now() - timedelta(days=days.value) if days.value else None,
                tasks=running().tasks,
            ),
            marker="audit-export",
        )
    columns = [
        {"name": "at", "label": "时间", "field": "at", "align": "left"},
        {"name": "account", "label": "操作人", "field": "account", "align": "left"},
        {"name": "org", "label": "组织", "field": "org", "align": "left"},
        {"name": "action", "label": "操作", "field": "action", "align": "left"},
        {"name": "object", "label": "对象", "field": "object", "align": "left"},
        {"name": "ip", "label": "来源IP", "field": "ip", "align": "left"},
        {
            "name": "detail",
            "label": "说明",
            "field": "detail",
            "align": "left",
            "style": "max-width: 360px; white-space: normal; word-break: break-all",
        },
    ]

    async def fetch(page_no: int, page_size: int, sort: str, desc: bool):
        since = localtime.now() - timedelta(days=days.value) if days.value else None
        result = await audit.search(
            actor(), keyword=keyword.value or "", action=action.value or "", since=since, page=page_no, size=page_size
        )
        return [
            {
                "id": r.id,
                "at": localtime.fmt(r.at),
                "account": r.account_login,
                "org": r.org_name,
                "action": audit.action_label(r.action),
                "object": r.object_name or r.object_id,
                "ip": r.ip,
                "detail": r.detail[:120] + ("…" if len(r.detail) > 120 else ""),
                "full_detail": r.detail,
                "before": json.dumps(r.before, ensure_ascii=False, indent=2) if r.before else "",
                "after": json.dumps(r.after, ensure_ascii=False, indent=2) if r.after else "",
            }
            for r in result.rows
        ], result.total

    with ui.element("div").classes("w-full q-mt-md"):
        paged = PagedTable(
            columns, fetch, marker="audit-table", size=size, selection=None, empty_text="没有符合条件的记录"
        )
    table = paged.table
    table.classes("landing-clickable-rows")

    async def reload(reset: bool = False) -> None:
        await paged.reload(reset=reset)

    def show(row: dict) -> None:
        with ui.dialog() as dialog, ui.card().style("min-width: 560px; max-width: 860px"):
            ui.label(f"{row['action']} · {row['object']}").classes("text-h6")
            ui.label(f"{row['at']}  {row['account']}  {row['ip']}").classes("text-grey-7")
            if row["full_detail"]:
                ui.label(row["full_detail"]).style("white-space: pre-wrap")
            with ui.row().classes("w-full no-wrap gap-4"):
                for title, text in (("修改前", row["before"]), ("修改后", row["after"])):
                    with ui.column().classes("col"):
                        ui.label(title).classes("text-subtitle2")
                        ui.code(text or "—", language="json").classes("w-full").style("overflow: auto")
            ui.button("关闭", on_click=dialog.close).props("flat")
        dialog.open()

    table.on("rowClick", lambda e: show(e.args[1]))
    await reload()
