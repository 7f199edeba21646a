"""新增部门 / 编辑部门 / 查看部门 (guide 3.3.5.2-3.3.5.4, 3.3.5.8). One form serves create and edit."""

from __future__ import annotations

from dataclasses import replace

from nicegui import ui

from app.components import address_book
from app.components.confirm_dialog import confirm
from app.components.entity_form import FieldErrors, chips, form_row, section
from app.components.frame import actor, empty_state, notify_error, notify_ok, page
from app.pages.contacts import contacts_shell, dept_url
from app.services.contacts import departments, people
from app.services.contacts.dept_form import HIDE_MODES, PERMIT_LIMIT, RESTRICT_MODES, DeptDetail, DeptInput
from app.services.errors import NotFound, PermissionDenied, ServiceError
from app.services.permissions import Perm


class PickField:
    """Ids chosen with the address book, shown as removable chips next to a 选择 button."""

    def __init__(
        self, name: str, kind: str, ids: list[int], names: dict[str, str], *, multiple: bool = True, limit=None
    ) -> None:
        self.name, self.kind, self.multiple, self.limit = name, kind, multiple, limit
        self.items = [(i, names.get(f"{kind}:{i}", f"#{i}")) for i in ids]
        self.on_change = None
        with ui.column().classes("gap-0"):
            with ui.row().classes("items-center gap-1"):
                self.box = ui.row().classes("items-center gap-1").mark(f"field-{name}")
                self.button = ui.button("选择", icon="search", on_click=self.pick).props("flat dense color=primary")
                self.button.mark(f"pick-{name}")
        self.render()

    @property
    def ids(self) -> list[int]:
        return [i for i, _ in self.items]

    def render(self) -> None:
        self.box.clear()
        with self.box:
            if not self.items:
                ui.label("未选择").classes("text-grey-5")
            for item_id, name in self.items:
                chip = ui.chip(name, icon="apartment" if self.kind == "dept" else "person", removable=True)
                chip.props("dense outline color=primary")
                chip.on("remove", lambda i=item_id: self.remove(i))

    def remove(self, item_id: int) -> None:
        self.items = [x for x in self.items if x[0] != item_id]
        self.render()

    async def pick(self) -> None:
        chosen = await address_book.pick(
            actor().current_org_id,
            mode=self.kind,
            multiple=self.multiple,
            selected=[(self.kind, i) for i in self.ids],
            limit=self.limit,
        )
        if chosen is None:
            return
        self.items = [(c.id, c.name) for c in chosen]
        self.render()
        if self.on_change:
            await self.on_change()


async def dept_form(detail: DeptDetail | None, parent: tuple[int, str] | None) -> None:
    """新增部门 when ``detail`` is None (under ``parent``), else 编辑部门."""
    me = actor()
    org_id = me.current_org_id
    data = replace(detail.data) if detail else DeptInput(parent_id=parent[0] if parent else None)
    names = dict(detail.names) if detail else {}
    if parent:
        names[f"dept:{parent[0]}"] = parent[1]
    errors = FieldErrors()
    with ui.column().classes("landing-panel w-full gap-1"):
        with ui.row().classes("w-full items-center"):
            ui.label("编辑部门" if detail else "新增部门").classes("text-h6")
            ui.space()
            ui.button("取消", on_click=lambda: ui.navigate.back()).props("flat")
            ui.button("提交", on_click=lambda: submit()).props("unelevated color=primary").mark("dept-submit")
        section("基础信息")
        with form_row("部门名称"):
            name = errors.input("name", ui.input(value=data.name, placeholder="1-64 个字符，不能包含 - , ，"))
            name.props("outlined dense maxlength=64 counter").classes("w-80").mark("dept-name")
        with form_row("上级部门"):
            if detail and detail.is_root:
                ui.label("（根部门）").classes("text-grey-6 q-pt-sm")
                parent_field = None
            else:
                parent_field = PickField(
                    "parent_id", "dept", [data.parent_id] if data.parent_id else [], names, multiple=False
                )
                errors.slot("parent_id")
        with form_row("部门主管"):
            if detail:
                with ui.column().classes("gap-0"):
                    managers = PickField("manager_ids", "person", data.manager_ids, names)
                    ui.label("须为本部门的人员（主部门或其他部门为本部门）").classes("landing-hint")
                    errors.slot("manager_ids")
            else:
                managers = None  # DingTalk accepts only members as managers, and a new department has none yet
                ui.label("新部门还没有人员：加入人员后，可在编辑部门时设置部门主管").classes(
                    "text-grey-7 q-pt-sm"
                ).mark("dept-managers-later")
        with form_row("部门管理员"):
            with ui.column().classes("gap-0"):
                admins = PickField("admin_ids", "person", data.admin_ids, names)
                ui.label(
                    "可查看当前部门及子部门，并且可以维护当前部门和子部门；将以登录账号或手机号开通管理账号"
                ).classes("landing-hint")
                errors.slot("admin_ids")
        with form_row("创建部门群"):
            create_group = ui.switch(value=data.create_group).mark("dept-create-group")
            ui.label("开启之后同步到钉钉时会创建部门群").classes("landing-hint q-pt-sm")

        group_box = ui.column().classes("w-full gap-1")
        with group_box:
            section("部门群")
            with form_row("群名称"):
                group_name = ui.label(data.name or "（与部门名称相同）").classes("q-pt-sm")
                ui.label("群名称自动带出，只能在客户端群设置中修改").classes("landing-hint q-pt-sm")
            with form_row("群主"):
                owner = None
                if detail:
                    members = await people.list_members(me, org_id, detail.id, page=1, size=200)
                    options = {0: f"默认：部门中的第一个人员（{detail.group_owner_name or '暂无'}）"}
                    options.update({r.id: r.name for r in members.rows})
                    owner = errors.input(
                        "group_owner_id",
                        ui.select(options, value=data.group_owner_id or 0).props("outlined dense").classes("w-80"),
                    ).mark("dept-group-owner")
                else:
                    ui.label("默认为部门中的第一个人员").classes("text-grey-7 q-pt-sm")
            with form_row("群人数"):
                ui.label(str(detail.group_size) if detail else "0").classes("q-pt-sm").mark("dept-group-size")
            with form_row("是否包含子部门"):
                include_sub = ui.switch(value=data.group_include_sub).mark("dept-group-sub")
        group_box.bind_visibility_from(create_group, "value")
        name.on_value_change(lambda e: group_name.set_text(e.value or "（与部门名称相同）"))

        section("部门设置")
        with form_row("是否隐藏本部门"):
            with ui.column().classes("gap-1"):
                hide_on = ui.switch(value=data.hide_mode != "off").mark("dept-hide")
                ui.label("隐藏本部门开启后，本部门将不会显示在公司通讯录中").classes("landing-hint")
                hide_options = {k: v for k, v in HIDE_MODES.items() if k != "off"}
                hide_mode = ui.radio(hide_options, value=data.hide_mode if data.hide_mode != "off" else "all").mark(
                    "dept-hide-mode"
                )
                hide_mode.bind_visibility_from(hide_on, "value")
        hide_lists = ui.column().classes("w-full gap-1")
        with hide_lists:
            with form_row("隐藏后可见人员"):
                hide_people = PickField("hide_person_ids", "person", data.hide_person_ids, names, limit=PERMIT_LIMIT)
                errors.slot("hide_person_ids")
            with form_row("隐藏后可见部门"):
                hide_depts = PickField("hide_dept_ids", "dept", data.hide_dept_ids, names, limit=PERMIT_LIMIT)
                errors.slot("hide_dept_ids")
        hide_lists.bind_visibility_from(hide_mode, "value", backward=lambda v: hide_on.value and v == "some")
        hide_on.on_value_change(lambda: hide_lists.set_visibility(hide_on.value and hide_mode.value == "some"))
        hide_lists.set_visibility(hide_on.value and hide_mode.value == "some")

        with form_row("限制部门成员查看通讯录"):
            with ui.column().classes("gap-1"):
                restrict_on = ui.switch(value=data.restrict_mode != "off").mark("dept-restrict")
                ui.label("查看限制方式").classes("landing-hint").bind_visibility_from(restrict_on, "value")
                restrict_options = {k: v for k, v in RESTRICT_MODES.items() if k != "off"}
                restrict_mode = ui.radio(
                    restrict_options, value=data.restrict_mode if data.restrict_mode != "off" else "none"
                ).mark("dept-restrict-mode")
                restrict_mode.bind_visibility_from(restrict_on, "value")
        restrict_lists = ui.column().classes("w-full gap-1")
        with restrict_lists:
            with form_row("自身可见人员"):
                restrict_people = PickField(
                    "restrict_person_ids", "person", data.restrict_person_ids, names, limit=PERMIT_LIMIT
                )
                errors.slot("restrict_person_ids")
            with form_row("自身可见部门"):
                restrict_depts = PickField(
                    "restrict_dept_ids", "dept", data.restrict_dept_ids, names, limit=PERMIT_LIMIT
                )
                errors.slot("restrict_dept_ids")
        restrict_lists.bind_visibility_from(
            restrict_mode, "value", backward=lambda v: restrict_on.value and v == "some"
        )
        restrict_on.on_value_change(
            lambda: restrict_lists.set_visibility(restrict_on.value and restrict_mode.value == "some")
        )
        restrict_lists.set_visibility(restrict_on.value and restrict_mode.value == "some")
        errors.slot("hide_mode")
        errors.slot("restrict_mode")

    async def submit() -> None:
        values = DeptInput(
            name=name.value or "",
            parent_id=(parent_field.ids[0] if parent_field and parent_field.ids else None)
            if parent_field
            else data.parent_id,
            manager_ids=managers.ids if managers else [],
            admin_ids=admins.ids,
            create_group=bool(create_group.value),
            group_owner_id=(owner.value or None) if owner else None,
            group_include_sub=bool(include_sub.value),
            hide_mode=hide_mode.value if hide_on.value else "off",
            hide_person_ids=hide_people.ids,
            hide_dept_ids=hide_depts.ids,
            restrict_mode=restrict_mode.value if restrict_on.value else "off",
            restrict_person_ids=restrict_people.ids,
            restrict_dept_ids=restrict_depts.ids,
        )
        errors.clear()
        try:
            if detail:
                await departments.update_department(me, org_id, detail.id, values)
                dept_id = detail.id
            else:
                dept_id = await departments.create_department(me, org_id, values)
        except ServiceError as exc:
            errors.show(exc)
            return
        notify_ok("部门已保存")
        ui.navigate.to(f"/contacts/dept/{dept_id}")


async def _load(dept_id: int) -> DeptDetail | None:
    try:
        return await departments.get_department(actor(), actor().current_org_id, dept_id)
    except (NotFound, PermissionDenied) as exc:
        right = await contacts_shell()
        with right:
            empty_state(exc.message, icon="block")
        return None


@page("/contacts/dept/new", "新增部门", section="contacts", perm=Perm.CONTACTS_EDIT, needs_org=True)
async def new_dept_page(parent: int | None = None) -> None:
    me = actor()
    if parent is None:
        top = await departments.tree_children(me, me.current_org_id, None, with_counts=False)
        parent = top[0].id if top else None
    detail = await _load(parent) if parent else None
    if detail is None:
        if parent is None:
            with await contacts_shell():
                empty_state("请选择上级部门")
        return
    with await contacts_shell(detail.id, [i for i, _ in detail.path_names]):
        await dept_form(None, (detail.id, detail.name))


@page("/contacts/dept/{dept_id}/edit", "编辑部门", section="contacts", perm=Perm.CONTACTS_EDIT, needs_org=True)
async def edit_dept_page(dept_id: int) -> None:
    detail = await _load(dept_id)
    if detail is None:
        return
    with await contacts_shell(detail.id, [i for i, _ in detail.path_names]):
        await dept_form(detail, None)


@page("/contacts/dept/{dept_id}", "查看部门", section="contacts", perm=Perm.CONTACTS_VIEW, needs_org=True)
async def view_dept_page(dept_id: int) -> None:
    detail = await _load(dept_id)
    if detail is None:
        return
    me = actor()
    data = detail.data

    def people_of(ids: list[int]) -> list[tuple[str, str]]:
        return [("person", detail.names.get(f"person:{i}", f"#{i}")) for i in ids]

    def depts_of(ids: list[int]) -> list[tuple[str, str]]:
        return [("apartment", detail.names.get(f"dept:{i}", f"#{i}")) for i in ids]

    async def delete() -> None:
        refusal = await departments.delete_preview(me, me.current_org_id, [detail.id])
        if refusal:
            notify_error(refusal)
            return
        if not await confirm("删除部门", f"将删除部门「{detail.name}」，删除后会同步到钉钉。确定删除吗？"):
            return
        try:
            await departments.delete_department(me, me.current_org_id, detail.id)
        except ServiceError as exc:
            notify_error(exc.message)
            return
        notify_ok(f"已删除部门「{detail.name}」")
        ui.navigate.to(dept_url(detail.parent_id) if detail.parent_id else "/contacts")

    with await contacts_shell(detail.id, [i for i, _ in detail.path_names]):
        with ui.column().classes("landing-panel w-full gap-1"):
            with ui.row().classes("w-full items-center"):
                ui.label("查看部门").classes("text-h6")
                ui.space()
                ui.button("返回列表", on_click=lambda: ui.navigate.to(dept_url(detail.id))).props("flat")
                if detail.editable:
                    ui.button("删除", on_click=delete).props("flat color=negative").mark("dept-delete")
                    ui.button("编辑", on_click=lambda: ui.navigate.to(f"/contacts/dept/{detail.id}/edit")).props(
                        "unelevated color=primary"
                    ).mark("dept-edit")
            section("基础信息")
            with form_row("部门名称"):
                ui.label(detail.name).classes("q-pt-sm").mark("view-name")
            with form_row("上级部门"):
                ui.label(detail.parent_name or "（根部门）").classes("q-pt-sm").mark("view-parent")
            with form_row("人数"):
                ui.label(f"{detail.member_count} 人，{detail.sub_count} 个下级部门").classes("q-pt-sm")
            with form_row("部门主管"):
                chips(people_of(data.manager_ids), marker="view-managers")
            with form_row("部门管理员"):
                chips(people_of(data.admin_ids), marker="view-admins")
            with form_row("创建部门群"):
                ui.label("已开启" if data.create_group else "已关闭").classes("q-pt-sm").mark("view-group")
            if data.create_group:
                section("部门群")
                with form_row("群名称"):
                    ui.label(detail.group_name).classes("q-pt-sm")
                with form_row("群主"):
                    ui.label(detail.group_owner_name or "（部门暂无人员）").classes("q-pt-sm").mark("view-owner")
                with form_row("群人数"):
                    ui.label(str(detail.group_size)).classes("q-pt-sm")
                with form_row("是否包含子部门"):
                    ui.label("已开启" if data.group_include_sub else "已关闭").classes("q-pt-sm")
            section("部门设置")
            with form_row("是否隐藏本部门"):
                ui.label(HIDE_MODES[data.hide_mode] if data.hide_mode != "off" else "已关闭").classes("q-pt-sm").mark(
                    "view-hide"
                )
            if data.hide_mode == "some":
                with form_row("隐藏后可见人员"):
                    chips(people_of(data.hide_person_ids), marker="view-hide-people")
                with form_row("隐藏后可见部门"):
                    chips(depts_of(data.hide_dept_ids), marker="view-hide-depts")
            with form_row("限制部门成员查看通讯录"):
                ui.label(RESTRICT_MODES[data.restrict_mode] if data.restrict_mode != "off" else "已关闭").classes(
                    "q-pt-sm"
                ).mark("view-restrict")
            if data.restrict_mode == "some":
                with form_row("自身可见人员"):
                    chips(people_of(data.restrict_person_ids), marker="view-restrict-people")
                with form_row("自身可见部门"):
                    chips(depts_of(data.restrict_dept_ids), marker="view-restrict-depts")
