"""新增人员 / 编辑人员 / 查看人员 (guide 3.3.5.5, 3.3.5.6, 3.3.5.8). One form serves create and edit; the view page
sets a person invalid (删除) or, for an invalid person, valid again (恢复有效)."""

from __future__ import annotations

from dataclasses import replace

from nicegui import ui

from app.components.confirm_dialog import confirm
from app.components.entity_form import FieldErrors, chips, form_row, section
from app.components.frame import actor, empty_state, notify_error, notify_ok, page, running
from app.pages.contacts import contacts_shell, dept_url
from app.pages.contacts_dept import PickField
from app.services import person_conflicts
from app.services.contacts import departments, people
from app.services.contacts.person_form import MAX_DEPTS, PersonDetail, PersonInput
from app.services.errors import NotFound, PermissionDenied, ServiceError
from app.services.permissions import Perm


def avatar(url: str, name: str, size: str = "64px") -> None:
    with ui.avatar(size=size, color="blue-2", text_color="primary").mark("person-avatar"):
        if url:
            ui.image(url)
        else:
            ui.label(name[:1] or "?")


async def person_form(detail: PersonDetail | None, dept: tuple[int, str] | None) -> None:
    me = actor()
    org_id = me.current_org_id
    data = replace(detail.data) if detail else PersonInput(main_dept_id=dept[0] if dept else None)
    names = {f"dept:{k}": v for k, v in (detail.dept_names if detail else {}).items()}
    if dept:
        names[f"dept:{dept[0]}"] = dept[1]
    errors = FieldErrors()
    with ui.column().classes("landing-panel w-full gap-1"):
        with ui.row().classes("w-full items-center"):
            ui.label("编辑人员" if detail else "新增人员").classes("text-h6")
            ui.space()
            ui.button("取消", on_click=lambda: ui.navigate.back()).props("flat")
            ui.button("提交", on_click=lambda: submit()).props("unelevated color=primary").mark("person-submit")

        def text(field: str, label: str, value: str, placeholder: str = "", marker: str = "") -> ui.input:
            with form_row(label):
                element = ui.input(value=value, placeholder=placeholder).props("outlined dense").classes("w-80")
                element.mark(marker or f"person-{field}")
            return errors.input(field, element)

        section("基础信息")
        name = text("name", "姓名", data.name)
        with form_row("头像url"):
            with ui.row().classes("items-center gap-3"):
                avatar_url = errors.input(
                    "avatar_url", ui.input(value=data.avatar_url, placeholder="https://...").props("outlined dense")
                )
                avatar_url.classes("w-80").mark("person-avatar_url")
                preview = ui.row()
        with form_row("主部门"):
            main = PickField(
                "main_dept_id", "dept", [data.main_dept_id] if data.main_dept_id else [], names, multiple=False
            )
            errors.slot("main_dept_id")
        with form_row("其他部门"):
            with ui.column().classes("gap-0"):
                others = PickField("other_dept_ids", "dept", data.other_dept_ids, names, limit=MAX_DEPTS - 1)
                if detail and detail.hidden_other_depts:
                    ui.label(f"另有 {detail.hidden_other_depts} 个其他部门不在您的管理范围内，将保持不变").classes(
                        "landing-hint"
                    )
                errors.slot("other_dept_ids")
        login = text("login_name", "登录账号", data.login_name, "字母、数字、. _ @ -")
        mobile = text("mobile", "手机号", data.mobile, "11 位手机号，国际号码 +xx-xxxxxx")
        with form_row("隐藏号码"):
            hide_mobile = ui.switch(value=data.hide_mobile).mark("person-hide_mobile")
            ui.label("其他用户不能在钉钉客户端查看其手机号码").classes("landing-hint q-pt-sm")
        with form_row("高管模式"):
            senior = ui.switch(value=data.senior_mode).mark("person-senior_mode")
            ui.label("其他职位比其低的用户不能查看到其手机号码").classes("landing-hint q-pt-sm")
        section("其他信息")
        email = text("email", "邮箱", data.email)
        job_number = text("job_number", "工号", data.job_number)
        title = text("title", "职位", data.title)
        telephone = text("telephone", "分机号", data.telephone)

    def show_preview() -> None:
        preview.clear()
        with preview:
            avatar(avatar_url.value or "", name.value or "", "40px")

    avatar_url.on_value_change(show_preview)
    show_preview()

    async def submit() -> None:
        values = PersonInput(
            name=name.value or "",
            avatar_url=avatar_url.value or "",
            main_dept_id=main.ids[0] if main.ids else None,
            other_dept_ids=others.ids,
            login_name=login.value or "",
            mobile=mobile.value or "",
            hide_mobile=bool(hide_mobile.value),
            senior_mode=bool(senior.value),
            email=email.value or "",
            job_number=job_number.value or "",
            title=title.value or "",
            telephone=telephone.value or "",
        )
        errors.clear()
        if detail and detail.ding_userid and values.mobile.strip() != (detail.data.mobile or ""):
            text = (
                "钉钉不允许通过接口修改已加入企业的人员的手机号（40022）。保存后本系统使用新号码，钉钉仍为原号码，"
                "该差异会标记为待处理；之后可在人员详情中选择「保留钉钉的号码」或「删除后重新添加」。继续保存吗？"
            )
            if not await confirm("修改手机号", text, ok="继续保存", danger=False):
                return
        try:
            if detail:
                await people.update_person(me, org_id, detail.id, values)
                person_id = detail.id
            else:
                person_id = await people.create_person(me, org_id, values)
        except ServiceError as exc:
            errors.show(exc)
            return
        notify_ok("人员已保存")
        ui.navigate.to(f"/contacts/person/{person_id}")


async def _blocked(message: str) -> None:
    with await contacts_shell():
        empty_state(message, icon="block")


@page("/contacts/person/new", "新增人员", section="contacts", perm=Perm.CONTACTS_EDIT, needs_org=True)
async def new_person_page(dept: int | None = None) -> None:
    me = actor()
    if dept is None:
        top = await departments.tree_children(me, me.current_org_id, None, with_counts=False)
        dept = top[0].id if top else None
    if dept is None:
        await _blocked("暂无可用的部门")
        return
    try:
        target = await departments.get_department(me, me.current_org_id, dept)
    except (NotFound, PermissionDenied) as exc:
        await _blocked(exc.message)
        return
    with await contacts_shell(target.id, [i for i, _ in target.path_names]):
        await person_form(None, (target.id, target.name))


async def _load(person_id: int) -> PersonDetail | None:
    try:
        return await people.get_person_detail(actor(), actor().current_org_id, person_id)
    except (NotFound, PermissionDenied) as exc:
        await _blocked(exc.message)
        return None


@page("/contacts/person/{person_id}/edit", "编辑人员", section="contacts", perm=Perm.CONTACTS_EDIT, needs_org=True)
async def edit_person_page(person_id: int) -> None:
    detail = await _load(person_id)
    if detail is None:
        return
    with await contacts_shell(detail.data.main_dept_id):
        await person_form(detail, None)


@page("/contacts/person/{person_id}", "查看人员", section="contacts", perm=Perm.CONTACTS_VIEW, needs_org=True)
async def view_person_page(person_id: int) -> None:
    detail = await _load(person_id)
    if detail is None:
        return
    me = actor()
    data = detail.data

    async def delete() -> None:
        if not await confirm("删除人员", f"将把「{data.name}」置为无效（不会从数据库删除），并同步到钉钉。确定吗？"):
            return
        try:
            await people.disable_person(me, me.current_org_id, detail.id)
        except ServiceError as exc:
            notify_error(exc.message)
            return
        notify_ok(f"已将「{data.name}」置为无效")
        ui.navigate.to(dept_url(data.main_dept_id))

    async def restore() -> None:
        text = f"将把「{data.name}」恢复为有效人员，并同步到钉钉。原来的部门主管、部门管理员身份不会恢复。确定吗？"
        if not await confirm("恢复有效", text, ok="恢复有效", danger=False):
            return
        try:
            await people.restore_person(me, me.current_org_id, detail.id)
        except ServiceError as exc:
            notify_error(exc.message)
            return
        notify_ok(f"已将「{data.name}」恢复有效")
        ui.navigate.to(f"/contacts/person/{detail.id}")

    async def keep_dingtalk(field: str) -> None:
        conflict = detail.conflicts[field]
        text = f"本系统的值「{conflict['local'] or '空'}」将改回钉钉的「{conflict['ding'] or '空'}」。确定吗？"
        if not await confirm("保留钉钉的值", text, ok="保留钉钉的值", danger=False):
            return
        try:
            await person_conflicts.keep_dingtalk_value(me, me.current_org_id, detail.id, field)
        except ServiceError as exc:
            notify_error(exc.message)
            return
        notify_ok("已保留钉钉的值")
        ui.navigate.to(f"/contacts/person/{detail.id}")

    async def recreate() -> None:
        text = f"{person_conflicts.LOSSES}确定要在钉钉中删除「{data.name}」后重新添加吗？"
        if not await confirm("删除后重新添加", text, ok="删除后重新添加"):
            return
        try:
            await person_conflicts.recreate_in_dingtalk(me, me.current_org_id, detail.id, client=running().dingtalk)
        except ServiceError as exc:
            notify_error(exc.message)
            return
        notify_ok(f"已在钉钉中重新添加「{data.name}」")
        ui.navigate.to(f"/contacts/person/{detail.id}")

    with await contacts_shell(data.main_dept_id):
        if detail.conflicts:
            with (
                ui.card()
                .classes("landing-card w-full q-mb-sm")
                .style("border-left: 4px solid #f2a600")
                .mark("person-conflicts")
            ):
                ui.label("钉钉拒绝了以下修改（待处理，以本系统为准）").classes("text-subtitle1")
                for field, conflict in detail.conflicts.items():
                    with ui.row().classes("items-center gap-3 w-full"):
                        label = "手机号" if field == "mobile" else field
                        ui.label(
                            f"{label}：本系统为「{conflict['local'] or '空'}」，钉钉仍为「{conflict['ding'] or '空'}」"
                            f"（{conflict.get('code', '')}）"
                        ).classes("text-body2")
                        ui.space()
                        if detail.editable:
                            ui.button(
                                "保留钉钉的号码" if field == "mobile" else "保留钉钉的值",
                                on_click=lambda f=field: keep_dingtalk(f),
                            ).props("outline color=primary").mark(f"keep-dingtalk-{field}")
                            if field == "mobile":
                                ui.button("删除后重新添加", on_click=recreate).props("outline color=negative").mark(
                                    "recreate"
                                )
        with ui.column().classes("landing-panel w-full gap-1"):
            with ui.row().classes("w-full items-center gap-3"):
                avatar(data.avatar_url, data.name)
                with ui.column().classes("gap-0"):
                    ui.label(data.name).classes("text-h6").mark("view-person-name")
                    with ui.row().classes("items-center gap-2"):
                        ui.label(data.title or "—").classes("text-grey-7")
                        state = "有效" if detail.is_active else "无效"
                        ui.badge(state, color="positive" if detail.is_active else "grey-6").props("outline").mark(
                            "view-person-state"
                        )
                ui.space()
                ui.button("返回列表", on_click=lambda: ui.navigate.to(dept_url(data.main_dept_id))).props("flat")
                if detail.editable and detail.is_active:
                    ui.button("删除", on_click=delete).props("flat color=negative").mark("person-delete")
                elif detail.editable:
                    ui.button("恢复有效", icon="restore", on_click=restore).props("flat color=primary").mark(
                        "person-restore"
                    )
                if detail.editable:
                    ui.button("编辑", on_click=lambda: ui.navigate.to(f"/contacts/person/{detail.id}/edit")).props(
                        "unelevated color=primary"
                    ).mark("person-edit")
            section("基础信息")
            rows = [
                ("姓名", data.name),
                ("主部门", detail.main_dept_name),
                ("登录账号", data.login_name or "—"),
                ("手机号", data.mobile or "—"),
                ("隐藏号码", "已开启" if data.hide_mobile else "已关闭"),
                ("高管模式", "已开启" if data.senior_mode else "已关闭"),
                ("邮箱", data.email or "—"),
                ("工号", data.job_number or "—"),
                ("职位", data.title or "—"),
                ("分机号", data.telephone or "—"),
                ("钉钉 userid", detail.ding_userid or "（尚未同步到钉钉）"),
            ]
            for label, value in rows:
                with form_row(label):
                    ui.label(value).classes("q-pt-sm").mark(f"view-{label}")
            with form_row("其他部门"):
                chips([("apartment", detail.dept_names[i]) for i in data.other_dept_ids], marker="view-other-depts")
            if detail.hidden_other_depts:
                with form_row(""):
                    ui.label(f"另有 {detail.hidden_other_depts} 个其他部门不在您的管理范围内").classes("landing-hint")
