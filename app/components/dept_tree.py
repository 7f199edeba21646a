"""A lazily loaded department tree: only the top is fetched at first, each node's children on its first expand,
so a tree of 10,000 departments opens at once. Labels read like the guide: 叮当科技(33).

``load(parent_id)`` returns ``DeptNode``s (``parent_id`` None = the top); ``on_select(node)`` runs on a click.
Elements are marked ``{prefix}-node-{id}`` (the label) and ``{prefix}-toggle-{id}`` (the expand arrow).

Keyboard (the WAI-ARIA tree pattern): the tree is one Tab stop (the selected node, else the first); Up/Down move
between visible nodes, Right opens a node or moves to its first child, Left closes it or moves to its parent, Enter
selects. Labels carry ``role=treeitem``, ``aria-level`` and ``aria-expanded`` for screen readers.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from typing import Any

from nicegui import ui

from app.services.contacts.departments import DeptNode

Loader = Callable[[int | None], Awaitable[list[DeptNode]]]


class DeptTree:
    def __init__(
        self,
        load: Loader,
        on_select: Callable[[DeptNode], Any] | None = None,
        *,
        prefix: str = "tree",
        selected_id: int | None = None,
    ) -> None:
        self.load = load
        self.on_select = on_select
        self.prefix = prefix
        self.selected_id = selected_id
        self._children: dict[int, ui.column] = {}
        self._toggles: dict[int, ui.button] = {}
        self._labels: dict[int, ui.label] = {}
        self._loaded: set[int] = set()
        self._levels: dict[int, int] = {}
        self.nodes: dict[int, DeptNode] = {}
        self._kids: dict[int | None, list[int]] = {}
        self._parent: dict[int, int | None] = {}
        self.focus_id: int | None = None
        self.container = ui.column().classes("w-full gap-0 landing-tree").props('role="tree" aria-label="组织架构"')

    async def build(self, reveal: list[int] | None = None) -> None:
        """Render the top level, then expand along ``reveal`` (a department's id path) to show the selection."""
        self.container.clear()
        self._children.clear()
        self._loaded.clear()
        self._kids.clear()
        nodes = await self.load(None)
        with self.container:
            for node in nodes:
                self._render(node, 0, None)
        for dept_id in reveal or []:
            if dept_id in self._children and dept_id not in self._loaded:
                await self.toggle(dept_id)
        if not reveal and len(nodes) == 1:
            await self.toggle(nodes[0].id)  # the root opens on its first level, like the guide's screen
        start = self.selected_id if self.selected_id in self._labels else (nodes[0].id if nodes else None)
        if start is not None:
            self._set_tab_stop(start)

    def _render(self, node: DeptNode, level: int, parent_id: int | None) -> None:
        self.nodes[node.id] = node
        self._kids.setdefault(parent_id, []).append(node.id)
        self._parent[node.id] = parent_id
        with (
            ui.row().classes("items-center no-wrap gap-0 w-full landing-tree-row").style(f"padding-left:{level * 16}px")
        ):
            if node.has_children:
                toggle = ui.button(icon="chevron_right", on_click=lambda n=node.id: self.toggle(n))
                toggle.props('flat dense round size=sm tabindex=-1 aria-hidden="true"')
                toggle.mark(f"{self.prefix}-toggle-{node.id}")
                self._toggles[node.id] = toggle
            else:
                ui.element("div").style("width:30px;flex-shrink:0")
            text = node.name if node.count is None else f"{node.name}({node.count})"
            label = (
                ui.label(text)
                .classes("landing-tree-label cursor-pointer ellipsis")
                .mark(f"{self.prefix}-node-{node.id}")
            )
            label.on("click", lambda n=node: self._select(n))
            label.props(f'tabindex=-1 role="treeitem" aria-level="{level + 1}"')
            if node.has_children:
                label.props('aria-expanded="false"')
            for key, handler in (
                ("enter", self._select),
                ("down.prevent", lambda n: self._move(n.id, 1)),
                ("up.prevent", lambda n: self._move(n.id, -1)),
                ("right.prevent", self._open_or_descend),
                ("left.prevent", self._close_or_ascend),
            ):
                label.on(f"keydown.{key}", lambda _, n=node, h=handler: h(n))
            label.tooltip(node.name)
            if node.id == self.selected_id:
                label.classes("landing-tree-selected")
            self._labels[node.id] = label
        self._children[node.id] = ui.column().classes("w-full gap-0")
        self._children[node.id].set_visibility(False)
        self._levels[node.id] = level

    async def toggle(self, dept_id: int) -> None:
        box = self._children.get(dept_id)
        if box is None:
            return
        if dept_id not in self._loaded:
            self._loaded.add(dept_id)
            nodes = await self.load(dept_id)
            with box:
                for node in nodes:
                    self._render(node, self._levels[dept_id] + 1, dept_id)
                if not nodes:
                    ui.label("（无下级部门）").classes("text-grey-5 text-caption").style(
                        f"padding-left:{(self._levels[dept_id] + 1) * 16 + 30}px"
                    )
            box.set_visibility(True)
        else:
            box.set_visibility(not box.visible)
        if dept_id in self._toggles:
            self._toggles[dept_id].props(f"icon={'expand_more' if box.visible else 'chevron_right'}")
        if dept_id in self._labels:
            self._labels[dept_id].props(f'aria-expanded="{"true" if box.visible else "false"}"')

    # -- keyboard ---------------------------------------------------------------------------------------------------

    def visible_ids(self) -> list[int]:
        """Node ids in screen order, descending only into open nodes."""
        out: list[int] = []

        def walk(parent: int | None) -> None:
            for child in self._kids.get(parent, []):
                out.append(child)
                box = self._children.get(child)
                if box is not None and box.visible:
                    walk(child)

        walk(None)
        return out

    def _set_tab_stop(self, dept_id: int) -> None:
        if self.focus_id in self._labels and self.focus_id != dept_id:
            self._labels[self.focus_id].props("tabindex=-1")
        self.focus_id = dept_id
        self._labels[dept_id].props("tabindex=0")

    def focus(self, dept_id: int) -> None:
        if dept_id not in self._labels:
            return
        self._set_tab_stop(dept_id)
        # Fire and forget: nothing waits for the browser's answer, so a closed tab cannot time anything out.
        ui.run_javascript(f"getHtmlElement({self._labels[dept_id].id})?.focus()")

    def _move(self, dept_id: int, step: int) -> None:
        order = self.visible_ids()
        if dept_id in order:
            index = min(max(order.index(dept_id) + step, 0), len(order) - 1)
            self.focus(order[index])

    async def _open_or_descend(self, node: DeptNode) -> None:
        box = self._children.get(node.id)
        if not node.has_children or box is None:
            return
        if not box.visible:
            await self.toggle(node.id)
        elif self._kids.get(node.id):
            self.focus(self._kids[node.id][0])

    async def _close_or_ascend(self, node: DeptNode) -> None:
        box = self._children.get(node.id)
        if node.has_children and box is not None and box.visible:
            await self.toggle(node.id)
        elif self._parent.get(node.id) is not None:
            self.focus(self._parent[node.id])  # type: ignore[arg-type]

    async def _select(self, node: DeptNode) -> None:
        if self.selected_id in self._labels:
            self._labels[self.selected_id].classes(remove="landing-tree-selected")
        self.selected_id = node.id
        self._labels[node.id].classes("landing-tree-selected")
        self._set_tab_stop(node.id)
        if self.on_select:
            result = self.on_select(node)
            if inspect.isawaitable(result):
                await result
