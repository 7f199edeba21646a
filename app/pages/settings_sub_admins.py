"""设置 > 子管理员 (guide 3.3.3): appoint and remove sub-admins chosen from the current org's contacts."""

from __future__ import annotations

from nicegui import ui

from app.components import address_book, initial_passwords
from app.components.confirm_dialog import ask
from app.components.frame import actor, empty_state, notify_error, notify_ok, page, page_title
from app.services import sub_admins
from app.services.errors import ServiceError
from app.services.permissions import Perm


@page(
    "/settings/sub-admins",
    "子管理员",
    section="settings",
    perm=Perm.SUBADMIN_MANAGE,
    needs_org=True,
    menu=("settings.sub_admins", 60),
)
async def sub_admins_page() -> None:
    page_title("子管理员", ("添加子管理员", lambda: add_from_address_book()))
    ui.label("子管理员选自当前组织的通讯录，账号初始密码为 123456（首次登录需修改）。子管理员拥有组织管理员的所有权限，"
             "编辑组织信息和设置子管理员除外。").classes("text-grey-7")  # fmt: skip
    holder = ui.column().classes("w-full")

    async def refresh() -> None:
        rows = await sub_admins.list_sub_admins(actor())
        holder.clear()
        with holder:
            if not rows:
                empty_state("还没有子管理员，点击右上角“添加子管理员”从通讯录中选择", "person_add")
                return
            columns = [
                {"name": "name", "label": "姓名", "field": "name", "align": "left"},
                {"name": "login", "label": "登录名", "field": "login", "align": "left"},
                {"name": "dept", "label": "所在部门", "field": "dept", "align": "left"},
                {"name": "state", "label": "状态", "field": "state", "align": "left"},
                {"name": "action", "label": "操作", "field": "action", "align": "left"},
            ]
            data = [r.__dict__ for r in rows]
            table = ui.table(columns=columns, rows=data, row_key="account_id").classes("w-full landing-card")
            table.props("flat bordered").mark("sub-admin-table")
            table.add_slot(
                "body-cell-action",
                '<q-td :props="props"><q-btn flat dense color="negative" label="移除" '
                "@click=\"$parent.$emit('remove', props.row)\" /></q-td>",
            )
            table.on("remove", lambda e: confirm_remove(e.args))

    def confirm_remove(row: dict) -> None:
        async def remove() -> None:
            try:
                login = await sub_admins.remove_sub_admin(actor(), int(row["account_id"]))
            except ServiceError as exc:
                notify_error(exc.message)
                return
            notify_ok(f"已移除子管理员 {login}")
            await refresh()

        ask(
            f"确认移除子管理员 {row['name']}（{row['login']}）？",
            "移除后该账号不能再管理本组织。",
            on_ok=remove,
            ok="移除",
            ok_marker="confirm-remove",
            marker="remove-confirm",
        )

    async def add_from_address_book() -> None:
        chosen = await address_book.pick(actor().current_org_id, mode="person", multiple=True, title="添加子管理员")
        if not chosen:
            return
        try:
            logins = await sub_admins.add_sub_admins(actor(), [item.id for item in chosen])
        except ServiceError as exc:
            notify_error(exc.message)
            return
        passwords = getattr(logins, "initial_passwords", {})
        if any(initial_passwords.is_random(p) for p in passwords.values()):
            await initial_passwords.show_once("已添加子管理员", passwords)
        else:
            notify_ok(f"已添加子管理员，登录名 {'、'.join(logins)}，初始密码 123456")
        await refresh()

    await refresh()
