"""操作日志: the writes administrators made on the connector's pages."""

from __future__ import annotations

import json

from app.components.paged_table import PagedTable
from app.connector.pages.frame import page
from app.connector.services import audit

COLUMNS = [
    {"name": "at", "label": "时间", "field": "at", "align": "left"},
    {"name": "actor", "label": "操作人", "field": "actor", "align": "left"},
    {"name": "action", "label": "操作", "field": "action", "align": "left"},
    {"name": "detail", "label": "内容", "field": "detail", "align": "left", "style": "white-space: normal"},
]


@page("/audit", "操作日志")
async def audit_page() -> None:
    async def fetch(page_no: int, size: int, _sort: str, _desc: bool):
        rows, total = await audit.page((page_no - 1) * size, size)
        return [
            {
                "id": r.id,
                "at": f"{r.at:%Y-%m-%d %H:%M:%S}",
                "actor": r.actor,
                "action": r.action,
                "detail": json.dumps(r.detail, ensure_ascii=False)[:300],
            }
            for r in rows
        ], total

    table = PagedTable(COLUMNS, fetch, marker="audit", size=20, selection=None, empty_text="暂无操作日志")
    await table.reload()
