"""A table whose rows come one page at a time from a service (server-side paging and sorting).

``fetch(page, size, sort, descending)`` returns ``(rows, total)``; rows are dicts with the ``row_key``. Clicking a
sortable header asks the server again; 上一页/下一页 and the page size do the same. ``selected_keys`` lists the
ticked rows of the current page (selection is cleared on every reload so a batch action never hits hidden rows).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from nicegui import ui

Fetch = Callable[[int, int, str, bool], Awaitable[tuple[list[dict[str, Any]], int]]]


class PagedTable:
    def __init__(
        self,
        columns: list[dict[str, Any]],
        fetch: Fetch,
        *,
        row_key: str = "id",
        marker: str = "paged",
        size: int = 20,
        sort: str = "",
        selection: str | None = "multiple",
        empty_text: str = "暂无数据",
    ) -> None:
        self.fetch = fetch
        self.marker = marker
        self.page = 1
        self.size = size
        self.sort = sort
        self.descending = False
        self.total = 0
        self.table = ui.table(columns=columns, rows=[], row_key=row_key, selection=selection)  # type: ignore[arg-type]
        self.table.props("flat bordered dense hide-pagination").classes("w-full landing-card").mark(marker)
        self.table.pagination = {"rowsPerPage": 0, "sortBy": sort or None, "descending": False}
        self.table.on("request", self._on_request)
        self.table.add_slot("no-data", f'<div class="full-width text-center text-grey-6 q-pa-md">{empty_text}</div>')
        with ui.row().classes("items-center gap-2 w-full"):
            self.prev_btn = ui.button("上一页", on_click=lambda: self.go(self.page - 1)).props("flat dense")
            self.prev_btn.mark(f"{marker}-prev")
            self.pager = ui.label("").classes("text-grey-7").mark(f"{marker}-pager")
            self.next_btn = ui.button("下一页", on_click=lambda: self.go(self.page + 1)).props("flat dense")
            self.next_btn.mark(f"{marker}-next")
            ui.space()
            sizes = ui.select([10, 20, 50, 100], value=size, label="每页").props("dense outlined options-dense")
            sizes.style("min-width: 80px").on_value_change(lambda e: self.set_size(e.value))

    @property
    def rows(self) -> list[dict[str, Any]]:
        return self.table.rows

    @property
    def selected_keys(self) -> list[Any]:
        key = self.table.row_key
        return [row[key] for row in self.table.selected]

    @property
    def pages(self) -> int:
        return max(1, (self.total + self.size - 1) // self.size)

    async def reload(self, *, reset: bool = False) -> None:
        if reset:
            self.page = 1
        rows, self.total = await self.fetch(self.page, self.size, self.sort, self.descending)
        if not rows and self.page > 1 and self.total:
            self.page = self.pages  # the last page emptied (e.g. after a delete): show the new last page
            rows, self.total = await self.fetch(self.page, self.size, self.sort, self.descending)
        self.table.rows = rows
        self.table.selected = []
        self.table.pagination = {
            "page": self.page,
            "rowsPerPage": self.size,
            "rowsNumber": self.total,
            "sortBy": self.sort or None,
            "descending": self.descending,
        }
        self.table.update()
        self.pager.set_text(f"第 {self.page} / {self.pages} 页，共 {self.total} 条")
        self.prev_btn.set_enabled(self.page > 1)
        self.next_btn.set_enabled(self.page < self.pages)

    async def go(self, page: int) -> None:
        self.page = min(max(1, page), self.pages)
        await self.reload()

    async def set_size(self, size: int) -> None:
        self.size = int(size)
        await self.reload(reset=True)

    async def sort_by(self, column: str, descending: bool = False) -> None:
        self.sort, self.descending = column, descending
        await self.reload(reset=True)

    async def _on_request(self, event: Any) -> None:
        pagination = (event.args or {}).get("pagination", {})
        self.sort = pagination.get("sortBy") or ""
        self.descending = bool(pagination.get("descending"))
        await self.reload(reset=True)
