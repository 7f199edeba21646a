"""设置 > 公司信息 (guide 3.2.2.2-3.2.5): the company, its organisations, 新建组织, 编辑组织, 解散组织."""

from __future__ import annotations

from nicegui import ui

from app.components import address_book, initial_passwords
from app.components.confirm_dialog import confirm
from app.components.entity_form import form_row
from app.components.frame import actor, empty_state, notify_error, notify_ok, page, page_title, running
from app.pages.org_form import (
    HELP_COMPANY_DOMAIN,
    BaselinePanel,
    OrgFormFields,
    help_text,
    org_detail,
    run_save,
    show_result_dialog,
)
from app.services import company, orgs
from app.services.errors import ServiceError
from app.services.permissions import Perm


@page("/settings/company", "公司信息", section="settings", perm=Perm.COMPANY_MANAGE, menu=("settings.company", 10))
async def company_page() -> None:
    info = await company.get_company(actor())
    if info is None:
        page_title("公司信息")
        with ui.card().classes("landing-card q-pa-md").props("flat bordered").mark("no-company"):
            ui.label("还没有公司信息").classes("text-subtitle1 text-weight-medium")
            ui.label("提交公司信息后，系统会创建一个公司和一个主组织，并自动拉取钉钉端的主管理员和通讯录。").classes(
                "text-grey-7"
            )
            ui.button("创建公司", on_click=lambda: ui.navigate.to("/settings/company/edit")).props(
                "unelevated color=primary"
            ).mark("create-company")
        return
    page_title("公司设置", ("编辑", lambda: ui.navigate.to("/settings/company/edit")))
    with ui.card().classes("landing-card w-full q-pa-md").props("flat bordered").mark("company-info"):
        ui.label("公司信息").classes("text-subtitle1 text-weight-medium")
        for label, value in (("公司名称", info.name), ("公司标识", info.domain)):
            with ui.row().classes("q-py-xs"):
                ui.label(label).classes("text-grey-7").style("width: 100px")
                ui.label(value).mark(f"company-{label}")
    await _org_list()


async def _org_list() -> None:
    rows = [
        {
            "id": o.id,
            "idx": i + 1,
            "name": o.name,
            "admin": o.main_admin_name,
            "main": "是" if o.is_main else "否",
            "corpid": o.corpid,
            "callback": o.callback_status_name,
            "baseline": o.baseline_status_name,
        }
        for i, o in enumerate(await orgs.list_orgs(actor()))
    ]
    columns = [
        {"name": "idx", "label": "序号", "field": "idx", "align": "left"},
        {"name": "name", "label": "组织名称", "field": "name", "align": "left"},
        {"name": "admin", "label": "管理员", "field": "admin", "align": "left"},
        {"name": "main", "label": "是否主组织", "field": "main", "align": "left"},
        {"name": "corpid", "label": "corpid", "field": "corpid", "align": "left"},
        {"name": "callback", "label": "回调状态", "field": "callback", "align": "left"},
        {"name": "baseline", "label": "通讯录拉取", "field": "baseline", "align": "left"},
    ]
    with ui.card().classes("landing-card w-full q-pa-md q-mt-md").props("flat bordered"):
        with ui.row().classes("w-full items-center"):
            ui.label("公司组织").classes("text-subtitle1 text-weight-medium")
            ui.space()
            ui.button("新建组织", on_click=lambda: ui.navigate.to("/settings/company/org/new")).props(
                "unelevated color=primary"
            ).mark("new-org")
            dissolve_button = ui.button("解散组织").props("outline color=negative").mark("dissolve")
        table = (
            ui.table(columns=columns, rows=rows, row_key="id", selection="multiple")
            .classes("w-full")
            .props("flat")
            .mark("org-table")
        )
        table.add_slot(
            "body-cell-callback",
            """<q-td :props="props"><q-badge outline
                 :color="props.value === '成功' ? 'positive' : (props.value === '失败' ? 'negative' : 'grey')">
                 {{ props.value }}</q-badge></q-td>""",
        )
        table.on("row-click", lambda e: ui.navigate.to(f"/settings/company/org/{e.args[1]['id']}"))
        ui.label("点击组织一行可查看和编辑组织信息；勾选后可解散组织（主组织不可解散）。").classes(
            "text-caption text-grey-7"
        )

    async def dissolve() -> None:
        selected = table.selected
        if not selected:
            notify_error("请先勾选要解散的组织")
            return
        names = "、".join(r["name"] for r in selected)
        if not await confirm(
            f"确认解散 {len(selected)} 个组织？",
            [
                f"将解散：{names}",
                "解散只删除蓝钉管理平台中这些组织的数据（通讯录、设置、日志、管理员、接入系统、回调事件），"
                "并删除本平台在钉钉的通讯录回调注册；不会解散钉钉端的企业组织，如需解散钉钉端组织，请登录钉钉管理后台操作。",
            ],
            ok="确认解散",
            ok_marker="confirm-dissolve",
            marker="dissolve-confirm",
        ):
            return
        try:
            done = await orgs.dissolve_orgs(actor(), [r["id"] for r in selected], client=running().dingtalk)
        except ServiceError as exc:
            notify_error(exc.message)
            return
        notify_ok(f"已解散：{'、'.join(done.names)}")
        if not done.warnings:
            ui.navigate.reload()
            return
        with ui.dialog().props("persistent") as note, ui.card().mark("dissolve-warnings"):
            for warning in done.warnings:
                ui.label(warning).classes("text-negative").style("white-space: pre-line")
            ui.button("确定", on_click=ui.navigate.reload).props("unelevated color=primary")
        note.open()

    dissolve_button.on_click(dissolve)


@page("/settings/company/edit", "填写公司信息", section="settings", perm=Perm.COMPANY_MANAGE)
async def company_edit_page() -> None:
    info = await company.get_company(actor())
    page_title("填写公司信息" if info is None else "编辑公司信息")
    error_box = ui.column().classes("w-full")
    name = _company_input("公司名称", info.name if info else "", "company_name")
    domain = _company_input("公司标识", info.domain if info else "", "domain", HELP_COMPANY_DOMAIN)
    fields = OrgFormFields(info.main_org if info else None, await orgs.default_callback_domain(), with_name=False)

    async def save() -> None:
        button.disable()
        try:
            await run_save(
                fields,
                error_box,
                lambda: company.save_company(
                    actor(),
                    company.CompanyForm(name=name.value or "", domain=domain.value or "", org=fields.form()),
                    rt=running(),
                ),
                lambda result: show_result_dialog(result, lambda: ui.navigate.to("/settings/company")),
                {"company_name": name, "domain": domain},
            )
        finally:
            button.enable()

    with ui.row().classes("q-mt-md").style("margin-left: 138px"):
        button = ui.button("保存", on_click=save).props("unelevated color=primary").mark("save")
        if info:
            ui.button("返回", on_click=lambda: ui.navigate.to("/settings/company")).props("flat")
    ui.label("保存前会用 appkey/appsecret 向钉钉校验，校验失败不会保存。").classes("text-caption text-grey-7").style(
        "margin-left: 138px"
    )


def _company_input(label: str, value: str, marker: str, help: str = "") -> ui.input:
    with form_row(label, required=True):
        with ui.column().classes("gap-0 col"):
            inp = ui.input(value=value).props("outlined dense").classes("w-full").style("max-width: 640px")
            inp.mark(marker)
            if help:
                help_text("注：" + help)
    return inp


@page("/settings/company/org/new", "创建组织", section="settings", perm=Perm.ORG_MANAGE)
async def org_new_page() -> None:
    page_title("组织信息")
    ui.label("多个组织不能重复填写相同的 corpid、appkey、appsecret、AgentId。").classes("text-grey-7")
    error_box = ui.column().classes("w-full")
    fields = OrgFormFields(None, await orgs.default_callback_domain())

    async def save() -> None:
        button.disable()
        try:
            await run_save(
                fields,
                error_box,
                lambda: orgs.create_org(actor(), fields.form(), rt=running()),
                lambda result: show_result_dialog(
                    result, lambda: ui.navigate.to(f"/settings/company/org/{result.org_id}")
                ),
            )
        finally:
            button.enable()

    with ui.row().classes("q-mt-md").style("margin-left: 138px"):
        button = ui.button("保存", on_click=save).props("unelevated color=primary").mark("save")
        ui.button("返回", on_click=lambda: ui.navigate.to("/settings/company")).props("flat")


@page("/settings/company/org/{org_id}", "组织信息", section="settings", perm=Perm.COMPANY_MANAGE)
async def org_detail_page(org_id: int) -> None:
    await org_view_or_edit(org_id, back="/settings/company")


async def org_view_or_edit(org_id: int, *, back: str | None) -> None:
    """View an org with 编辑 (same page switches to the form) and the main-admin change (3.2.4 / 3.3.2)."""
    current = actor()
    try:
        view = await orgs.get_org(current, org_id)
    except ServiceError as exc:
        empty_state(exc.message, "error_outline")
        return
    editable = current.can(Perm.ORG_EDIT, org_id)
    content = ui.column().classes("w-full")

    def show() -> None:
        content.clear()
        with content:
            page_title("组织信息")
            if back:
                ui.link("< 返回公司信息", back).classes("text-primary")
            org_detail(view, editable=editable, on_edit=edit, on_refresh=ui.navigate.reload)
            if editable:
                _main_admin_box(org_id)
            BaselinePanel(org_id)

    def edit() -> None:
        content.clear()
        with content:
            page_title("编辑组织")
            error_box = ui.column().classes("w-full")
            fields = OrgFormFields(view, view.callback_domain)

            async def save() -> None:
                await run_save(
                    fields,
                    error_box,
                    lambda: orgs.update_org(actor(), org_id, fields.form(), client=running().dingtalk),
                    lambda result: show_result_dialog(result, ui.navigate.reload),
                )

            with ui.row().classes("q-mt-md").style("margin-left: 138px"):
                ui.button("保存", on_click=save).props("unelevated color=primary").mark("save")
                ui.button("取消", on_click=show).props("flat")

    show()


def _main_admin_box(org_id: int) -> None:
    with ui.card().classes("landing-card w-full q-pa-md q-mt-md").props("flat bordered").mark("main-admin-box"):
        ui.label("修改主管理员").classes("text-subtitle1 text-weight-medium")
        ui.label(
            "主管理员选自本组织通讯录；新主管理员的登录名为其登录名或手机号，"
            "新账号的初始密码按系统设置（默认 123456）。"
        ).classes("text-caption text-grey-7")

        async def choose() -> None:
            chosen = await address_book.pick(org_id, mode="person", multiple=False, title="选择主管理员")
            if not chosen:
                return
            person = chosen[0]
            text = f"确认将「{person.name}」设为主管理员？原主管理员将不再是本组织的组织管理员。"
            if not await confirm("修改主管理员", text, ok="设为主管理员", danger=False):
                return
            try:
                new = await orgs.set_main_admin(actor(), org_id, person.id)
            except ServiceError as exc:
                notify_error(exc.message)
                return
            if initial_passwords.is_random(new.initial_password):
                await initial_passwords.show_once("已修改主管理员", {new.login: new.initial_password})
            notify_ok(f"已修改主管理员（登录名 {new.login}）")
            ui.navigate.reload()

        ui.button("从地址本选择主管理员", icon="contacts", on_click=choose).props("outline color=primary").mark(
            "choose-main-admin"
        )
