"""地址本: the one dialog for choosing people and/or departments, used by every page that picks from contacts.

Usage (inside a page or an event handler)::

    from app.components import address_book

    items = await address_book.pick(
        org_id,                      # the org whose contacts to show (normally actor().current_org_id)
        mode="person",               # "person" | "dept" | "both"
        multiple=True,               # False: choosing one item replaces the previous choice
        selected=[...],              # initial choice: PickedItem objects or ("person"|"dept", id) tuples
        limit=None,                  # at most this many items (None: no limit)
        title="选择人员",             # dialog title
    )
    # -> list[PickedItem] on 确定 (possibly empty), None on 取消 / closing the dialog

``PickedItem(kind, id, name, detail)`` comes from ``app.services.address_book``. What the dialog shows (tree,
members, search) is cut to the acting admin's scope; services that store the result check scope again.
Markers for tests: ``ab-search``, ``ab-node-{dept id}``, ``ab-toggle-{dept id}``, ``ab-person-{id}``,
``ab-dept-{id}`` (choose a department), ``ab-hit-{kind}-{id}``, ``ab-remove-{kind}-{id}``, ``ab-ok``,
``ab-cancel``, ``ab-count``; the member list pages with the console's one pager (``ab-members-prev``,
``ab-members-pager``, ``ab-members-next``), shown when a department has more than one page of people.
"""

from __future__ import annotations

from collections.abc import Sequence

from nicegui import ui

from app.components.dept_tree import DeptTree
from app.components.frame import actor, notify_error
from app.components.keyboard import activatable
from app.components.paged_table import Pager
from app.services import address_book as book
from app.services.address_book import PickedItem
from app.services.contacts.departments import DeptNode
from app.services.errors import ServiceError

__all__ = ["PickedItem", "pick"]

_TITLES = {"person": "选择人员", "dept": "选择部门", "both": "选择部门或人员"}
MEMBERS_PAGE = 50  # people of one department shown at a time


async def pick(
    org_id: int | None,
    mode: str = "person",
    multiple: bool = True,
    selected: Sequence[PickedItem | tuple[str, int]] | None = None,
    limit: int | None = None,
    title: str | None = None,
) -> list[PickedItem] | None:
    if mode not in _TITLES:
        raise ValueError(f"unknown address book mode {mode!r}")
    act = actor()
    chosen: dict[str, PickedItem] = {}
    wanted = [s if isinstance(s, PickedItem) else None for s in selected or []]
    keys = [(s[0], int(s[1])) for s in selected or [] if not isinstance(s, PickedItem)]
    for item in [w for w in wanted if w is not None] + await book.resolve_items(act, org_id, keys):
        chosen[item.key] = item
    allow_person = mode in ("person", "both")
    allow_dept = mode in ("dept", "both")
    state: dict[str, DeptNode | None] = {"node": None}

    with ui.dialog().props("persistent") as dialog, ui.card().classes("q-pa-md").style("width: 900px; max-width: 96vw"):
        with ui.row().classes("w-full items-center"):
            ui.label(title or _TITLES[mode]).classes("text-h6")
            ui.space()
            hint = f"最多选择 {limit} 个" if limit else ("可多选" if multiple else "单选")
            ui.label(hint).classes("text-grey-6 text-caption")
        with ui.row().classes("w-full no-wrap gap-4 items-stretch").style("height: 460px"):
            with ui.column().classes("gap-2").style("flex: 3; min-width: 0; overflow: auto"):
                search = ui.input(placeholder="请输入关键字").props('outlined dense clearable aria-label="搜索"')
                search.classes("w-full")
                search.mark("ab-search")
                hits_box = ui.column().classes("w-full gap-0")
                ui.label("点击部门查看其人员，点击人员或“选择该部门”加入已选").classes("text-grey-6 text-caption")
                with ui.row().classes("w-full no-wrap gap-3 items-start"):
                    tree_box = ui.column().classes("gap-0").style("flex: 1; min-width: 0")
                    with ui.column().classes("gap-0").style("flex: 1; min-width: 0"):
                        members_head = ui.column().classes("w-full gap-0")
                        members_list = ui.column().classes("w-full gap-0")
                        pager = Pager(lambda: load_members(), marker="ab-members", size=MEMBERS_PAGE, sizes=())
                        pager.row.set_visibility(False)
            with (
                ui.column()
                .classes("gap-1")
                .style("flex: 2; min-width: 0; border-left: 1px solid #eee; padding-left: 12px")
            ):
                with ui.row().classes("w-full items-center"):
                    count = ui.label("").classes("text-weight-medium").mark("ab-count")
                    ui.space()
                    ui.button("清空", on_click=lambda: (chosen.clear(), refresh_chosen())).props("flat dense")
                chosen_box = ui.column().classes("w-full gap-1").style("overflow: auto")
        with ui.row().classes("w-full justify-end gap-2"):
            ui.button("取消", on_click=lambda: dialog.submit(None)).props("flat").mark("ab-cancel")
            ui.button("确定", on_click=lambda: dialog.submit(list(chosen.values()))).props(
                "unelevated color=primary"
            ).mark("ab-ok")

        def refresh_chosen() -> None:
            count.set_text(f"已选 ({len(chosen)})")
            chosen_box.clear()
            with chosen_box:
                if not chosen:
                    ui.label("尚未选择").classes("text-grey-5")
                for item in chosen.values():
                    with ui.row().classes("w-full items-center no-wrap gap-1"):
                        ui.icon("apartment" if item.kind == "dept" else "person", size="18px").classes("text-grey-6")
                        ui.label(item.name).classes("ellipsis")
                        ui.label(item.detail).classes("text-grey-6 text-caption ellipsis")
                        ui.space()
                        ui.button(
                            icon="close", on_click=lambda k=item.key: (chosen.pop(k, None), refresh_chosen())
                        ).props("flat dense round size=sm").mark(f"ab-remove-{item.kind}-{item.id}")

        def choose(item: PickedItem) -> None:
            if item.key in chosen:
                chosen.pop(item.key)
            elif not multiple:
                chosen.clear()
                chosen[item.key] = item
            elif limit and len(chosen) >= limit:
                notify_error(f"最多选择 {limit} 个")
                return
            else:
                chosen[item.key] = item
            refresh_chosen()

        async def show_members(node: DeptNode) -> None:
            current = state["node"]
            if current is None or current.id != node.id:
                pager.page = 1
            state["node"] = node
            members_head.clear()
            with members_head:
                ui.label(node.name).classes("text-weight-medium q-mb-xs")
                if allow_dept:
                    ui.button(
                        "选择该部门", icon="add", on_click=lambda: choose(PickedItem("dept", node.id, node.name))
                    ).props("flat dense color=primary").mark(f"ab-dept-{node.id}")
            await load_members()

        async def load_members() -> None:
            node = state["node"]
            members_list.clear()
            pager.row.set_visibility(False)
            if node is None or not allow_person:
                return
            try:
                page = await book.members(act, org_id, node.id, page=pager.page, size=pager.size)
            except ServiceError as exc:
                notify_error(exc.message)
                return
            with members_list:
                if not page.rows:
                    ui.label("该部门没有人员").classes("text-grey-5")
                for person in page.rows:
                    with ui.row().classes("items-center no-wrap gap-1 cursor-pointer landing-pick-row") as row:
                        ui.icon("person", size="18px").classes("text-grey-6")
                        ui.label(person.name).style("flex-shrink: 0")  # the name stays whole; the detail ellipses
                        ui.label(person.detail).classes("text-grey-6 text-caption ellipsis")
                    activatable(row, lambda p=person: choose(p), role="option", label=person.name)
                    row.mark(f"ab-person-{person.id}")
            pager.show(page.total, page.page)
            pager.row.set_visibility(page.pages > 1)

        async def run_search() -> None:
            hits_box.clear()
            keyword = (search.value or "").strip()
            if not keyword:
                return
            items = await book.search(act, org_id, keyword, mode=mode)
            with hits_box:
                ui.label(f"搜索结果（{len(items)}）").classes("text-grey-7 text-caption")
                for item in items:
                    with ui.row().classes("items-center no-wrap gap-1 cursor-pointer landing-pick-row") as row:
                        ui.icon("apartment" if item.kind == "dept" else "person", size="18px").classes("text-grey-6")
                        ui.label(item.name)
                        ui.label(item.detail).classes("text-grey-6 text-caption ellipsis")
                    activatable(row, lambda i=item: choose(i), role="option", label=item.name)
                    row.mark(f"ab-hit-{item.kind}-{item.id}")
                ui.separator()

        search.on("keydown.enter", run_search)
        search.on_value_change(lambda e: run_search() if not e.value else None)
        search.on("blur", run_search)

        async def load(parent_id: int | None) -> list[DeptNode]:
            return await (book.roots(act, org_id) if parent_id is None else book.children(act, org_id, parent_id))

        with tree_box:
            tree = DeptTree(load, show_members, prefix="ab")
        refresh_chosen()
        await tree.build()

    result = await dialog
    dialog.delete()
    return result
