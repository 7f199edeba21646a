"""The one pagination component: a pager bar (上一页, 第 p / n 页，共 t 条, 下一页, 每页) and a table built on it.

Every long list in the console pages the same way: ``Pager`` calls its ``load()`` for the page it is on and
shows where the admin is; ``PagedTable`` is a table whose rows come one page at a time from
``fetch(page, size, sort, descending)`` returning ``(rows, total)`` (rows are dicts with the ``row_key``). Clicking
a sortable header asks the server again; 上一页/下一页 and the page size do the same. ``selected_keys`` lists the
ticked rows of the current page (selection is cleared on every reload so a batch action never hits hidden rows).
Lists that are not tables (the 地址本's members) use ``Pager`` under their own rows. ``page_of`` cuts a page out of a
short list a service returns whole, for the same bar.

Markers for tests: ``{marker}-prev``, ``{marker}-pager`` (the 第 p / n 页 text), ``{marker}-next``,
``{marker}-size``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

from nicegui import ui

Fetch = Callable[[int, int, str, bool], Awaitable[tuple[list[dict[str, Any]], int]]]
Load = Callable[[], Awaitable[None]]
T = TypeVar("T")

SIZES = (10, 20, 50, 100)


def page_of(items: Sequence[T], page: int, size: int) -> tuple[list[T], int]:
    """One page of a list held in memory, with the total, in the shape ``fetch`` returns."""
    start = (max(1, page) - 1) * size
    return list(items[start : start + size]), len(items)


class Pager:
    """上一页 / 第 p / n 页，共 t 条 / 下一页 / 每页; ``load()`` reads ``page`` and ``size``, then calls ``show()``."""

    def __init__(self, load: Load, *, marker: str, size: int = 20, sizes: Sequence[int] = SIZES) -> None:
        self.load = load
        self.page = 1
        self.size = size
        self.total = 0
        with ui.row().classes("items-center gap-2 w-full landing-pager") as self.row:
            self.prev_btn = ui.button("上一页", on_click=lambda: self.go(self.page - 1)).props("flat dense")
            self.prev_btn.mark(f"{marker}-prev")
            self.label = ui.label("").classes("text-grey-7").mark(f"{marker}-pager")
            self.next_btn = ui.button("下一页", on_click=lambda: self.go(self.page + 1)).props("flat dense")
            self.next_btn.mark(f"{marker}-next")
            if sizes:  # a narrow list (the 地址本) passes no sizes and keeps its page size
                ui.space()
                options = sorted({*sizes, size})
                chooser = ui.select(options, value=size, label="每页").props("dense outlined options-dense")
                chooser.style("min-width: 80px").mark(f"{marker}-size")
                chooser.on_value_change(lambda e: self.set_size(e.value))

    @property
    def pages(self) -> int:
        return max(1, (self.total + self.size - 1) // self.size)

    def show(self, total: int, page: int | None = None) -> None:
        """Where the list is now: ``total`` items, on ``page`` (the one just loaded, if the service moved it)."""
        self.total = total
        if page is not None:
            self.page = page
        self.label.set_text(f"第 {self.page} / {self.pages} 页，共 {self.total} 条")
        self.prev_btn.set_enabled(self.page > 1)
        self.next_btn.set_enabled(self.page < self.pages)

    async def go(self, page: int) -> None:
        self.page = min(max(1, page), self.pages)
        await self.load()

    async def set_size(self, size: int) -> None:
        self.size = int(size)
        self.page = 1
        await self.load()


class PagedTable:
    """A ``ui.table`` (``.table``, for slots and events) over ``fetch``, with the ``Pager`` under it."""

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
        self.sort = sort
        self.descending = False
        self.table = ui.table(columns=columns, rows=[], row_key=row_key, selection=selection)  # type: ignore[arg-type]
        self.table.props("flat bordered dense hide-pagination").classes("w-full landing-card").mark(marker)
        self.table.pagination = {"rowsPerPage": 0, "sortBy": sort or None, "descending": False}
        self.table.on("request", self._on_request)
        self.table.add_slot("no-data", f'<div class="full-width text-center text-grey-6 q-pa-md">{empty_text}</div>')
        self.pager = Pager(self.reload, marker=marker, size=size)

    @property
    def rows(self) -> list[dict[str, Any]]:
        return self.table.rows

    @property
    def selected_keys(self) -> list[Any]:
        key = self.table.row_key
        return [row[key] for row in self.table.selected]

    async def reload(self, *, reset: bool = False) -> None:
        pager = self.pager
        if reset:
            pager.page = 1
        rows, total = await self.fetch(pager.page, pager.size, self.sort, self.descending)
        pager.total = total
        if not rows and pager.page > 1 and total:
            pager.page = pager.pages  # the last page emptied (e.g. after a delete): show the new last page
            rows, total = await self.fetch(pager.page, pager.size, self.sort, self.descending)
        self.table.rows = rows
        self.table.selected = []
        self.table.pagination = {
            "page": pager.page,
            "rowsPerPage": pager.size,
            "rowsNumber": total,
            "sortBy": self.sort or None,
            "descending": self.descending,
        }
        self.table.update()
        pager.show(total)

    async def sort_by(self, column: str, descending: bool = False) -> None:
        self.sort, self.descending = column, descending
        await self.reload(reset=True)

    async def _on_request(self, event: Any) -> None:
        pagination = (event.args or {}).get("pagination", {})
        self.sort = pagination.get("sortBy") or ""
        self.descending = bool(pagination.get("descending"))
        await self.reload(reset=True)
