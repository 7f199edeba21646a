"""The API 令牌 section of 权限管理 > 管理员: create a personal token (shown once), list, revoke with confirmation."""

from __future__ import annotations

from nicegui import ui

from app.components.confirm_dialog import ask
from app.components.entity_form import FieldErrors
from app.components.frame import actor, empty_state, notify_error, notify_ok
from app.components.paged_table import PagedTable, page_of
from app.services import api_tokens
from app.services.errors import ServiceError


def _when(value) -> str:
    return f"{value.astimezone():%Y-%m-%d %H:%M}" if value else "从未使用"


async def token_section() -> None:
    me = actor()
    with ui.card().classes("landing-card w-full q-pa-md q-mt-lg").props("flat bordered").mark("api-tokens"):
        with ui.row().classes("w-full items-center no-wrap"):
            ui.label("API 令牌").classes("text-subtitle1 text-weight-medium")
            ui.space()
            ui.button("新建令牌", on_click=lambda: ask_name()).props("unelevated color=primary").mark("new-token")
        with ui.row().classes("items-center gap-1 text-grey-7"):
            ui.label(
                "供脚本和自动化调用 /api/v1 接口（如启动通讯录同步），请求头 Authorization: Bearer <令牌>。"
                "令牌拥有你当前的角色和组织权限，创建后只显示一次。"
                + ("超级管理员可查看并撤销所有账号的令牌。" if me.is_super else "")
            )
            ui.link("接口文档", "/docs", new_tab=True)
        holder = ui.column().classes("w-full")

    async def refresh() -> None:
        rows = await api_tokens.list_tokens(actor())
        holder.clear()
        with holder:
            if not rows:
                empty_state("还没有 API 令牌，点击“新建令牌”创建", "key")
                return
            columns = [
                {"name": "name", "label": "名称", "field": "name", "align": "left"},
                {"name": "prefix", "label": "令牌", "field": "prefix", "align": "left"},
                *([{"name": "owner", "label": "所属账号", "field": "owner", "align": "left"}] if me.is_super else []),
                {"name": "created", "label": "创建时间", "field": "created", "align": "left"},
                {"name": "used", "label": "最近使用", "field": "used", "align": "left"},
                {"name": "state", "label": "状态", "field": "state", "align": "left"},
                {"name": "action", "label": "操作", "field": "action", "align": "left"},
            ]
            data = [
                {
                    "id": t.id,
                    "name": t.name,
                    "prefix": f"{t.prefix}…",
                    "owner": t.owner_login,
                    "created": _when(t.created_at),
                    "used": _when(t.last_used_at) + (f"（{t.last_used_ip}）" if t.last_used_ip else ""),
                    "state": "有效" if t.active else f"已撤销（{t.revoked_by}）",
                    "active": t.active,
                }
                for t in rows
            ]

            async def fetch(page_no: int, size: int, _sort: str, _descending: bool) -> tuple[list[dict], int]:
                return page_of(data, page_no, size)

            paged = PagedTable(columns, fetch, marker="token-table", size=10, selection=None)
            table = paged.table
            table.props(remove="dense")
            table.add_slot(
                "body-cell-action",
                '<q-td :props="props"><q-btn v-if="props.row.active" flat dense color="negative" label="撤销" '
                "@click=\"$parent.$emit('revoke', props.row)\" /></q-td>",
            )
            table.on("revoke", lambda e: confirm_revoke(e.args))
        await paged.reload()

    def ask_name() -> None:
        with ui.dialog() as dialog, ui.card().classes("q-pa-md").style("min-width: 420px").mark("token-name-dialog"):
            ui.label("新建 API 令牌").classes("text-h6")
            name = ui.input("令牌名称", placeholder="如：夜间同步脚本").props("outlined dense autofocus")
            name.classes("w-full").mark("token-name")
            errors = FieldErrors()
            errors.input("name", name)
            with ui.row().classes("w-full justify-end"):
                ui.button("取消", on_click=dialog.close).props("flat")

                async def create() -> None:
                    try:
                        created = await api_tokens.create_token(actor(), name.value or "")
                    except ServiceError as exc:
                        errors.show(exc)  # next to 令牌名称, or as a notification when it is about something else
                        return
                    dialog.close()
                    show_once(created)
                    await refresh()

                ui.button("创建", on_click=create).props("unelevated color=primary").mark("create-token")
        dialog.open()

    def show_once(created: api_tokens.CreatedToken) -> None:
        with (
            ui.dialog().props("persistent") as dialog,
            ui.card().classes("q-pa-md").style("min-width: 560px; max-width: 680px"),
        ):
            ui.label(f"令牌「{created.view.name}」已创建").classes("text-h6")
            ui.label("请立即复制并妥善保存：关闭此窗口后将无法再次查看。").classes("text-negative")
            with ui.row().classes("w-full items-center no-wrap"):
                ui.label(created.token).classes("col text-mono q-pa-sm bg-grey-2").style("word-break: break-all").mark(
                    "token-value"
                )
                ui.button(icon="content_copy", on_click=lambda: ui.clipboard.write(created.token)).props(
                    "flat dense"
                ).tooltip("复制")
            with ui.row().classes("w-full justify-end"):
                ui.button("我已保存", on_click=dialog.close).props("unelevated color=primary").mark("token-saved")
        dialog.open()

    def confirm_revoke(row: dict) -> None:
        async def revoke() -> None:
            try:
                await api_tokens.revoke_token(actor(), int(row["id"]))
            except ServiceError as exc:
                notify_error(exc.message)
                return
            notify_ok(f"已撤销令牌「{row['name']}」")
            await refresh()

        ask(
            f"确认撤销令牌「{row['name']}」（{row['prefix']}）？",
            "撤销后使用该令牌的脚本将立即无法调用接口，且不能恢复。",
            on_ok=revoke,
            ok="撤销",
            ok_marker="confirm-revoke",
            marker="revoke-confirm",
        )

    await refresh()
