"""A lazily loaded department tree: only the top is fetched at first, each node's children on its first expand,
so a tree of 10,000 departments opens at once. Labels read like the guide: 叮当科技(33).

``load(parent_id)`` returns ``DeptNode``s (``parent_id`` None = the top); ``on_select(node)`` runs on a click.
Elements are marked ``{prefix}-node-{id}`` (the label) and ``{prefix}-toggle-{id}`` (the expand arrow).
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from typing import Any

from nicegui import ui

from app.services.departments import DeptNode

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
        self.container = ui.column().classes("w-full gap-0 landing-tree")

    async def build(self, reveal: list[int] | None = None) -> None:
        """Render the top level, then expand along ``reveal`` (a department's id path) to show the selection."""
        self.container.clear()
        self._children.clear()
        self._loaded.clear()
        nodes = await self.load(None)
        with self.container:
            for node in nodes:
                self._render(node, 0)
        for dept_id in reveal or []:
            if dept_id in self._children and dept_id not in self._loaded:
                await self.toggle(dept_id)
        if not reveal and len(nodes) == 1:
            await self.toggle(nodes[0].id)  # the root opens on its first level, like the guide's screen

    def _render(self, node: DeptNode, level: int) -> None:
        self.nodes[node.id] = node
        with (
            ui.row().classes("items-center no-wrap gap-0 w-full landing-tree-row").style(f"padding-left:{level * 16}px")
        ):
            if node.has_children:
                toggle = ui.button(icon="chevron_right", on_click=lambda n=node.id: self.toggle(n))
                toggle.props("flat dense round size=sm").mark(f"{self.prefix}-toggle-{node.id}")
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
                    self._render(node, self._levels[dept_id] + 1)
                if not nodes:
                    ui.label("（无下级部门）").classes("text-grey-5 text-caption").style(
                        f"padding-left:{(self._levels[dept_id] + 1) * 16 + 30}px"
                    )
            box.set_visibility(True)
        else:
            box.set_visibility(not box.visible)
        if dept_id in self._toggles:
            self._toggles[dept_id].props(f"icon={'expand_more' if box.visible else 'chevron_right'}")

    async def _select(self, node: DeptNode) -> None:
        if self.selected_id in self._labels:
            self._labels[self.selected_id].classes(remove="landing-tree-selected")
        self.selected_id = node.id
        self._labels[node.id].classes("landing-tree-selected")
        if self.on_select:
            result = self.on_select(node)
            if inspect.isawaitable(result):
                await result
