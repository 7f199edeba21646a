"""通讯录 (guide 3.3.5.1): the department tree with a keyword search on the left, the selected department's
sub-departments and people on the right (paged on the server, sortable, multi-select with 批量删除)."""

from __future__ import annotations

from nicegui import ui

from app.components import address_book
from app.components.confirm_dialog import confirm
from app.components.dept_tree import DeptTree
from app.components.entity_form import highlight
from app.components.export_button import export_button
from app.components.frame import actor, empty_state, notify_error, notify_ok, page, running
from app.components.keyboard import activatable
from app.components.paged_table import PagedTable
from app.services import exports
from app.services.contacts import departments, people
from app.services.contacts import search as contacts_search
from app.services.contacts.departments import DeptNode
from app.services.errors import NotFound, PermissionDenied, ServiceError
from app.services.permissions import Perm

_CSS = """
.landing-contacts { align-items: stretch; }
.landing-contacts-left { width: 280px; flex-shrink: 0; background: #fff; border: 1px solid #e6e8eb; border-radius: 4px;
  padding: 12px 8px; max-height: calc(100vh - 110px); overflow: auto; }
.landing-contacts-right { flex: 1; min-width: 0; }
.landing-tree-row { min-height: 30px; border-radius: 3px; }
.landing-tree-row:hover { background: #f2f6fc; }
.landing-tree-label { font-size: 14px; padding: 4px 2px; color: #333; }
.landing-tree-selected { color: #1f5fbf; font-weight: 600; }
.landing-hl { background: #ffe58f; padding: 0 1px; }
.landing-hit { padding: 6px 8px; border-bottom: 1px solid #f0f0f0; cursor: pointer; }
.landing-hit:hover { background: #f2f6fc; }
.landing-pick-row { padding: 3px 4px; border-radius: 3px; }
.landing-pick-row:hover { background: #f2f6fc; }
.landing-panel { background: #fff; border: 1px solid #e6e8eb; border-radius: 4px; padding: 12px 16px; }
.landing-contacts-right .q-btn__content { white-space: nowrap; flex-wrap: nowrap; }
@media (max-width: 1279px) { .landing-contacts-left { width: 220px; } }
"""


def dept_url(dept_id: int) -> str:
    return f"/contacts?dept={dept_id}"


async def contacts_shell(selected_id: int | None = None, reveal: list[int] | None = None) -> ui.column:
    """The left half every contacts page shares; returns the right-hand column to fill."""
    ui.add_css(_CSS)
    org_id = actor().current_org_id
    with ui.row().classes("w-full no-wrap gap-4 landing-contacts"):
        with ui.column().classes("landing-contacts-left gap-1"):
            search = ui.input(placeholder="请输入关键字").props('outlined dense clearable aria-label="搜索部门或人员"')
            search.classes("w-full")
            search.mark("contacts-search")
            results = ui.column().classes("w-full gap-0").mark("search-results")
            results.set_visibility(False)
            ui.label("组织架构").classes("text-grey-7 text-caption q-mt-sm q-ml-xs")

            async def load(parent_id: int | None) -> list[DeptNode]:
                return await departments.tree_children(actor(), org_id, parent_id)

            tree = DeptTree(load, lambda node: ui.navigate.to(dept_url(node.id)), selected_id=selected_id)
        right = ui.column().classes("landing-contacts-right gap-3")

    async def run_search() -> None:
        keyword = (search.value or "").strip()
        results.clear()
        if not keyword:
            results.set_visibility(False)
            tree.container.set_visibility(True)
            return
        found = await contacts_search.search(actor(), org_id, keyword)
        tree.container.set_visibility(False)
        results.set_visibility(True)
        with results:
            if not found.depts and not found.people:
                ui.label("没有找到匹配的部门或人员").classes("text-grey-6 q-pa-sm")
            for hit in found.depts:
                with ui.column().classes("landing-hit gap-0 w-full").mark(f"hit-dept-{hit.id}") as box:
                    with ui.row().classes("items-center no-wrap gap-1"):
                        ui.icon("apartment", size="18px").classes("text-grey-6")
                        ui.html(highlight(hit.name, keyword), sanitize=False)
                    ui.label(hit.detail).classes("text-grey-6 text-caption")
                activatable(box, lambda h=hit: ui.navigate.to(dept_url(h.id)), role="link", label=f"部门 {hit.name}")
            for hit in found.people:
                with ui.column().classes("landing-hit gap-0 w-full").mark(f"hit-person-{hit.id}") as box:
                    with ui.row().classes("items-center no-wrap gap-1"):
                        ui.icon("person", size="18px").classes("text-grey-6")
                        ui.html(highlight(hit.name, keyword), sanitize=False)
                    ui.html(
                        f'<span class="text-grey-6 text-caption">{highlight(hit.detail, keyword)}</span>',
                        sanitize=False,
                    )
                activatable(box, lambda h=hit: ui.navigate.to(f"/contacts/person/{h.id}"), role="link", label=hit.name)
            if found.more_depts or found.more_people:
                ui.label("结果较多，仅显示前 20 条，请输入更准确的关键字").classes("text-grey-6 text-caption q-pa-sm")

    search.on("keydown.enter", run_search)
    search.on_value_change(lambda e: run_search() if not e.value else None)
    await tree.build(reveal)
    return right


@page("/contacts", "通讯录", section="contacts", perm=Perm.CONTACTS_VIEW, needs_org=True, menu=("contacts.tree", 10))
async def contacts_page(dept: int | None = None) -> None:
    me = actor()
    org_id = me.current_org_id
    try:
        if dept is None:
            top = await departments.tree_children(me, org_id, None)
            if not top:
                await contacts_shell()
                empty_state("暂无可查看的部门")
                return
            dept = top[0].id
        detail = await departments.get_department(me, org_id, dept)
    except (NotFound, PermissionDenied) as exc:
        right = await contacts_shell()
        with right:
            empty_state(exc.message, icon="block")
        return
    right = await contacts_shell(detail.id, [i for i, _ in detail.path_names])
    editable = me.can(Perm.CONTACTS_EDIT, org_id)
    with right:
        with ui.row().classes("w-full items-center gap-2"):
            for dept_id, name in detail.path_names[:-1]:
                ui.link(name, dept_url(dept_id)).classes("text-grey-7")
                ui.label("/").classes("text-grey-5")
        with ui.row().classes("w-full items-center gap-2"):
            ui.label(detail.name).classes("text-h6").mark("dept-title")
            ui.label(f"({detail.member_count})").classes("text-grey-7")
            ui.link("查看", f"/contacts/dept/{detail.id}").classes("q-ml-sm").mark("dept-view-link")
            if editable:
                ui.link("编辑", f"/contacts/dept/{detail.id}/edit").mark("dept-edit-link")
            ui.space()
            if editable:
                ui.button(
                    "新增部门", icon="add", on_click=lambda: ui.navigate.to(f"/contacts/dept/new?parent={detail.id}")
                ).props("unelevated color=primary").mark("add-dept")
                ui.button(
                    "新增人员",
                    icon="person_add",
                    on_click=lambda: ui.navigate.to(f"/contacts/person/new?dept={detail.id}"),
                ).props("unelevated color=primary").mark("add-person")
                ui.button("加入现有人员", icon="group_add", on_click=lambda: add_existing()).props(
                    "outline color=primary"
                ).mark("add-existing")

        # ---- 下级部门
        with ui.column().classes("landing-panel w-full gap-2"):
            with ui.row().classes("w-full items-center"):
                ui.label("下级部门").classes("text-subtitle1 text-weight-medium")
                ui.space()
                if editable:
                    ui.button("批量删除", icon="delete", on_click=lambda: delete_depts()).props(
                        "flat color=negative dense"
                    ).mark("dept-batch-delete")

            async def fetch_depts(page_no: int, size: int, sort: str, desc: bool):
                result = await departments.list_children(
                    me, org_id, detail.id, page=page_no, size=size, sort=sort or "order", descending=desc
                )
                return [
                    {"id": r.id, "name": r.name, "count": r.count, "managers": r.managers or "—", "url": dept_url(r.id)}
                    for r in result.rows
                ], result.total

            dept_table = PagedTable(
                [
                    {"name": "name", "label": "部门名称", "field": "name", "align": "left", "sortable": True},
                    {"name": "count", "label": "人数", "field": "count", "align": "left"},
                    {"name": "managers", "label": "部门主管", "field": "managers", "align": "left"},
                ],
                fetch_depts,
                marker="dept-table",
                size=10,
                empty_text="没有下级部门",
                selection="multiple" if editable else None,
            )
            dept_table.table.add_slot(
                "body-cell-name",
                '<q-td :props="props"><a :href="props.row.url" class="text-primary">{{ props.value }}</a></q-td>',
            )

        # ---- 人员
        with ui.column().classes("landing-panel w-full gap-2"):
            with ui.row().classes("w-full items-center gap-3"):
                ui.label("人员").classes("text-subtitle1 text-weight-medium")
                inactive = ui.checkbox("显示无效人员").props("dense").mark("show-inactive")
                ui.space()
                export_button(
                    lambda fmt: exports.start_contacts_export(me, org_id, detail.id, fmt, tasks=running().tasks),
                    marker="export",
                )
                if editable:
                    ui.button("批量删除", icon="delete", on_click=lambda: delete_people()).props(
                        "flat color=negative dense"
                    ).mark("person-batch-delete")

            async def fetch_people(page_no: int, size: int, sort: str, desc: bool):
                result = await people.list_members(
                    me, org_id, detail.id, page=page_no, size=size, sort=sort or "name", descending=desc,
                    include_inactive=bool(inactive.value),
                )  # fmt: skip
                return [
                    {
                        "id": r.id,
                        "name": r.name,
                        "avatar": r.avatar_url,
                        "initial": r.name[:1],
                        "mobile": r.mobile,
                        "login_name": r.login_name or "—",
                        "dept": r.main_dept_name if r.is_main else f"{r.main_dept_name}（主） / 本部门（其他）",
                        "title": r.title or "—",
                        "job_number": r.job_number or "—",
                        "state": "有效" if r.is_active else "无效",
                        "url": f"/contacts/person/{r.id}",
                    }
                    for r in result.rows
                ], result.total

            person_table = PagedTable(
                [
                    {"name": "name", "label": "姓名", "field": "name", "align": "left", "sortable": True},
                    {"name": "mobile", "label": "手机号", "field": "mobile", "align": "left", "sortable": True},
                    {
                        "name": "login_name",
                        "label": "登录账号",
                        "field": "login_name",
                        "align": "left",
                        "sortable": True,
                    },
                    {"name": "dept", "label": "部门", "field": "dept", "align": "left"},
                    {"name": "title", "label": "职位", "field": "title", "align": "left", "sortable": True},
                    {"name": "job_number", "label": "工号", "field": "job_number", "align": "left", "sortable": True},
                    {"name": "state", "label": "状态", "field": "state", "align": "left"},
                ],
                fetch_people,
                marker="person-table",
                sort="name",
                empty_text="该部门没有人员",
                selection="multiple" if editable else None,
            )
            person_table.table.add_slot(
                "body-cell-name",
                """<q-td :props="props"><div class="row items-center no-wrap q-gutter-x-sm">
                <q-avatar size="26px" color="blue-2" text-color="primary">
                  <img v-if="props.row.avatar" :src="props.row.avatar"><span v-else>{{ props.row.initial }}</span>
                </q-avatar><a :href="props.row.url" class="text-primary">{{ props.value }}</a></div></q-td>""",
            )
            inactive.on_value_change(lambda: person_table.reload(reset=True))

    async def delete_depts() -> None:
        ids = dept_table.selected_keys
        if not ids:
            notify_error("请先勾选要删除的部门")
            return
        try:
            refusal = await departments.delete_preview(me, org_id, ids)
        except ServiceError as exc:
            notify_error(exc.message)
            return
        if refusal:
            notify_error(refusal)
            return
        if not await confirm("删除部门", f"将删除选中的 {len(ids)} 个部门，删除后会同步到钉钉。确定删除吗？"):
            return
        try:
            count = await departments.delete_departments(me, org_id, ids)
        except ServiceError as exc:
            notify_error(exc.message)
            return
        notify_ok(f"已删除 {count} 个部门")
        ui.navigate.to(dept_url(detail.id))

    async def delete_people() -> None:
        ids = person_table.selected_keys
        if not ids:
            notify_error("请先勾选要删除的人员")
            return
        try:
            plan = await people.batch_plan(me, org_id, detail.id, ids)
        except ServiceError as exc:
            notify_error(exc.message)
            return
        if not plan.text:
            notify_error("选中的人员均已无效")
            return
        if not await confirm("批量删除人员", f"在「{detail.name}」中批量删除：{plan.text}。确定继续吗？"):
            return
        try:
            done = await people.batch_delete(me, org_id, detail.id, ids)
        except ServiceError as exc:
            notify_error(exc.message)
            return
        notify_ok(done.text.replace("将被", "已").replace("将从", "已从"))
        ui.navigate.to(dept_url(detail.id))

    async def add_existing() -> None:
        items = await address_book.pick(org_id, mode="person", multiple=True, title=f"加入现有人员到「{detail.name}」")
        if not items:
            return
        try:
            added = await people.add_existing(me, org_id, detail.id, [i.id for i in items])
        except ServiceError as exc:
            notify_error(exc.message)
            return
        notify_ok(f"已将 {added} 名人员加入「{detail.name}」" if added else "所选人员已在本部门中")
        await person_table.reload()

    await dept_table.reload()
    await person_table.reload()
